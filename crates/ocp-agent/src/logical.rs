//! Logical backup sets: a `mariadb-dump` of a running server's user databases, compressed
//! with zstd as it streams into the storage, and `users.sql`, the statements that make its
//! users, roles and grants again (a dump holds neither). Loading a set pipes both into the
//! `mariadb` client. Both tools come with Debian's `mariadb-client`.
//!
//! The agent logs in as its host's backup user, whose password it derives from its own
//! secret, as the server does when it makes the user: no password travels.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::Context as _;
use ocp_api::backup::{BackupManifest, BackupMode, LoadBackupSet, WriteBackupSet};
use ocp_ob::{ObClient, Target};

use crate::backup::{
    begin_set, create_compressed, finish_compressed, manifest_of, verify_set, write_plain, Begun,
};
use crate::storage::Storage;

pub const DUMP: &str = "dump.sql.zst";
pub const USERS: &str = "users.sql";
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// A statement of a load may run this long (seekdb's default is 10 s, too short for a
/// large table's inserts or an index build).
const LOAD_STATEMENT_TIMEOUT_US: u64 = 6 * 3600 * 1_000_000;

/// This host's backup user on the server listening on `port`.
fn backup_target(data_dir: &Path, port: u16) -> anyhow::Result<Target> {
    let credentials = crate::config::load_credentials(data_dir)?
        .context("the agent is not registered with a server yet")?;
    Ok(Target {
        host: "127.0.0.1".into(),
        port,
        user: ocp_api::agent::backup_user(credentials.host_id),
        password: ocp_api::agent::backup_password(&credentials.secret),
    })
}

/// The `[client]` options of a `mariadb` tool, in a file only this user reads, so the
/// password is on no command line. Removed when dropped.
fn client_options(data_dir: &Path, target: &Target) -> anyhow::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("client-")
        .suffix(".cnf")
        .tempfile_in(data_dir)?;
    writeln!(
        file,
        "[client]\nhost={}\nport={}\nuser={}\npassword={}\ndefault-character-set=utf8mb4",
        target.host, target.port, target.user, target.password
    )?;
    file.flush()?;
    Ok(file)
}

/// Starts a `mariadb` tool with the options file; its stderr is read on a thread, so a
/// chatty tool never blocks.
fn spawn_tool(
    tool: &str,
    options: &Path,
    args: &[String],
    stdin: Stdio,
    stdout: Stdio,
) -> anyhow::Result<(Child, std::thread::JoinHandle<String>)> {
    let mut child = Command::new(tool)
        .arg(format!("--defaults-extra-file={}", options.display()))
        .args(args)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "{tool} is not installed on this host: install Debian's mariadb-client"
            ),
            _ => anyhow::Error::new(e).context(format!("starting {tool}")),
        })?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    Ok((child, errors))
}

/// Waits for a tool; an error with the end of what it wrote on stderr if it failed.
fn finish_tool(
    tool: &str,
    mut child: Child,
    errors: std::thread::JoinHandle<String>,
) -> anyhow::Result<()> {
    let status = child.wait()?;
    let text = errors.join().unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        anyhow::bail!("{tool} failed ({status}): {}", tail.join(" / "));
    }
    Ok(())
}

/// Writes a logical set of the running server on `request.sql_port`: its user databases
/// dumped in one consistent snapshot (`--single-transaction`), and its users and grants. A
/// finished set of the same id is answered as it is.
pub fn dump_set(
    data_dir: &Path,
    request: &WriteBackupSet,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<BackupManifest> {
    anyhow::ensure!(
        request.mode == BackupMode::LogicalBackup,
        "a {} set is copied, not dumped",
        request.mode
    );
    let storage = Storage::open(&request.storage, data_dir)?;
    let set = &request.set_name;
    if let Begun::Finished(manifest) = begin_set(&storage, request)? {
        return Ok(manifest);
    }
    let start_time_ms = ocp_api::time::now_millis();
    let target = backup_target(data_dir, request.sql_port)?;
    let (databases, definitions) = runtime.block_on(async {
        let mut client = ObClient::connect(&target, CONNECT_TIMEOUT).await?;
        let databases = client.user_databases().await?;
        let definitions = client
            .user_definitions(ocp_api::agent::is_platform_user)
            .await?;
        client.close().await;
        Ok::<_, ocp_ob::ObError>((databases, definitions))
    })?;
    let mut dump = create_compressed(&storage, set, DUMP)?;
    if databases.is_empty() {
        dump.write_all(b"-- the server held no user database\n")?;
    } else {
        let options = client_options(data_dir, &target)?;
        let mut args: Vec<String> = [
            "--single-transaction",
            "--routines",
            "--triggers",
            "--hex-blob",
            "--skip-dump-date",
            "--databases",
        ]
        .map(String::from)
        .to_vec();
        args.extend(databases.iter().cloned());
        let (mut child, errors) = spawn_tool(
            "mariadb-dump",
            options.path(),
            &args,
            Stdio::null(),
            Stdio::piped(),
        )?;
        let out = child.stdout.take().expect("stdout is piped");
        // A pipe of 1 MiB instead of 64 KiB: the dump rarely waits for the compressor.
        let _ = nix::fcntl::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&out),
            nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20),
        );
        let mut out = std::io::BufReader::with_capacity(1 << 20, out);
        let copied = std::io::copy(&mut out, &mut dump);
        drop(out);
        finish_tool("mariadb-dump", child, errors)?;
        copied.context("writing the dump into the set")?;
    }
    let dump = finish_compressed(dump, DUMP)?;
    let mut users_sql = String::new();
    for statement in &definitions.statements {
        users_sql.push_str(statement);
        users_sql.push_str(";\n");
    }
    let users = write_plain(&storage, set, USERS, users_sql.as_bytes())?;
    let manifest = BackupManifest {
        start_time_ms,
        files: vec![dump, users],
        databases,
        users: definitions.users,
        ..manifest_of(request, BackupMode::LogicalBackup)
    };
    storage.write_manifest(set, &manifest)?;
    Ok(manifest)
}

/// Loads a logical set into the running server on `request.sql_port`, after every file
/// matched the manifest: the dump, then the users and grants. The caller checks first that
/// the set's databases hold no table there. A load run again after a crash makes the same
/// tables again (the dump drops each before it makes it).
pub fn load_set(data_dir: &Path, request: &LoadBackupSet) -> anyhow::Result<BackupManifest> {
    let storage = Storage::open(&request.storage, data_dir)?;
    let set = &request.set_name;
    let manifest = verify_set(&storage, set)?;
    anyhow::ensure!(
        manifest.mode == BackupMode::LogicalBackup,
        "backup set {} is {}, not a logical set",
        manifest.backup_set_id,
        manifest.mode
    );
    let target = backup_target(data_dir, request.sql_port)?;
    let options = client_options(data_dir, &target)?;
    let args = vec![
        "--batch".to_string(),
        format!(
            "--init-command=SET SESSION ob_query_timeout = {LOAD_STATEMENT_TIMEOUT_US}, \
             ob_trx_timeout = {LOAD_STATEMENT_TIMEOUT_US}"
        ),
    ];
    let (mut child, errors) = spawn_tool(
        "mariadb",
        options.path(),
        &args,
        Stdio::piped(),
        Stdio::null(),
    )?;
    let mut input = child.stdin.take().expect("stdin is piped");
    let fed = (|| -> anyhow::Result<()> {
        let mut dump = zstd::Decoder::new(storage.read(set, DUMP)?)?;
        std::io::copy(&mut dump, &mut input)?;
        input.write_all(b"\n")?;
        std::io::copy(&mut storage.read(set, USERS)?, &mut input)?;
        Ok(())
    })();
    drop(input);
    // The client's own error says more than the broken pipe it leaves the feed with.
    finish_tool("mariadb", child, errors)?;
    fed.context("feeding the set to mariadb")?;
    Ok(manifest)
}
