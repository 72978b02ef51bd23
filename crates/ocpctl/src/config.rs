//! Profiles and credentials.
//!
//! `config.toml` (in `$OCPCTL_CONFIG_DIR`, else `$XDG_CONFIG_HOME/ocpctl`, else
//! `~/.config/ocpctl`) names profiles, each a server URL and a user, and the current one.
//! Passwords are never in it: they come from `--password-stdin`, `$OCP_PASSWORD`, the
//! `credentials` file beside it (refused unless only its owner can read it, mode 0600) or a
//! prompt.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::client::CliError;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    pub server: String,
    pub user: String,
}

/// `credentials`: a password per profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Credentials {
    #[serde(default)]
    passwords: BTreeMap<String, String>,
}

pub fn dir() -> PathBuf {
    if let Ok(dir) = std::env::var("OCPCTL_CONFIG_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| ".".into())).join(".config")
        });
    base.join("ocpctl")
}

impl Config {
    pub fn load() -> Result<Self, CliError> {
        let path = dir().join("config.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(CliError::usage(format!("{}: {e}", path.display()))),
        }
    }

    pub fn save(&self) -> Result<(), CliError> {
        let text = toml::to_string_pretty(self).map_err(|e| CliError::usage(e.to_string()))?;
        write_private(&dir().join("config.toml"), &text, 0o644)
    }
}

/// Writes a file in the config directory, created with `mode` from the start.
fn write_private(path: &std::path::Path, text: &str, mode: u32) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::usage(format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let temp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&temp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temp)
        .map_err(fail)?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(fail)?;
    std::fs::rename(&temp, path).map_err(fail)
}

fn credentials_path() -> PathBuf {
    dir().join("credentials")
}

fn load_credentials() -> Result<Credentials, CliError> {
    let path = credentials_path();
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(_) => return Ok(Credentials::default()),
    };
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(CliError::usage(format!(
            "{} can be read by others; run chmod 600 on it",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
}

/// Keeps `password` for `profile` in the credentials file (mode 0600).
pub fn save_password(profile: &str, password: &str) -> Result<(), CliError> {
    let mut credentials = load_credentials()?;
    credentials
        .passwords
        .insert(profile.to_string(), password.to_string());
    let text = toml::to_string_pretty(&credentials).map_err(|e| CliError::usage(e.to_string()))?;
    write_private(&credentials_path(), &text, 0o600)
}

/// The password for `profile`: `$OCP_PASSWORD`, the credentials file, else a prompt.
pub fn password(profile: &str, user: &str, from_stdin: bool) -> Result<String, CliError> {
    if from_stdin {
        return password_from_stdin();
    }
    if let Ok(password) = std::env::var("OCP_PASSWORD") {
        return Ok(password);
    }
    if let Some(password) = load_credentials()?.passwords.get(profile) {
        return Ok(password.clone());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::auth(
            "no password: set OCP_PASSWORD, use --password-stdin or save one with \
             `ocpctl config set-profile --save-password`",
        ));
    }
    rpassword::prompt_password(format!("password for {user}: "))
        .map_err(|e| CliError::usage(format!("reading the password: {e}")))
}

fn password_from_stdin() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::usage(format!("reading the password from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// A password to save for `user`: from stdin, $OCP_PASSWORD, or asked on a terminal (never
/// one saved already).
pub fn new_password(user: &str, from_stdin: bool) -> Result<String, CliError> {
    if from_stdin {
        return password_from_stdin();
    }
    if let Ok(password) = std::env::var("OCP_PASSWORD") {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(
            "no terminal to ask the password on: pipe it with --password-stdin or set \
             OCP_PASSWORD",
        ));
    }
    rpassword::prompt_password(format!("password for {user}: "))
        .map_err(|e| CliError::usage(format!("reading the password: {e}")))
}
