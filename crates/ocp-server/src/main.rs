use clap::Parser;
use ocp_server::config::{Args, Command, Config, LogFormat};
use ocp_server::Server;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The secrets are in `args` now: drop them from the environment before any thread
    // starts, so that no process started from here inherits them.
    ocp_api::agent::remove_secret_env();
    // Everything this server writes (metadb, master key, packages) is for its own user only.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(args))
}

async fn serve(mut args: Args) -> anyhow::Result<()> {
    let print_join_token = args.print_join_token;
    let command = args.command.take();
    let config = Config::resolve(args)?;
    if let Some(Command::ResetAdminPassword) = command {
        let password = ocp_server::app::reset_admin_password(&config).await?;
        // Shown once, on the terminal of the operator who asked; never logged.
        #[allow(clippy::print_stdout)]
        {
            println!("admin's new password: {password} (shown only this once)");
        }
        return Ok(());
    }
    if print_join_token {
        let token = ocp_server::app::issue_join_token(&config).await?;
        #[allow(clippy::print_stdout)]
        {
            println!("{}", token.token);
            eprintln!(
                "one-time agent join token, valid until {}; on the host run:\n  ocp-agent run --server http://SERVER:PORT --advertise-ip HOST_IP --join-token {}",
                token.expire_time, token.token
            );
        }
        return Ok(());
    }
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        // A log that cannot be written (a full disk) must not take a request with it.
        .log_internal_errors(false)
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => logs.json().init(),
        // Colours only for a person at a terminal, never into a file.
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    let server = Server::build(config).await?;
    let addr = server.local_addr();
    #[allow(clippy::print_stdout)]
    {
        println!("ocp-server listening on http://{addr}");
    }
    tracing::info!(%addr, "ocp-server started");
    server.run(shutdown_signal()).await?;
    tracing::info!("ocp-server stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
