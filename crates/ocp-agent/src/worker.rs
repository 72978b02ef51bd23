//! What the two workers share: serving on their unix socket and ending with the supervisor.

use std::path::Path;
use std::time::Duration;

use axum::Router;

use crate::config;

/// Serves `app` on the worker's socket until the supervisor that started this process is
/// gone (the worker is then re-parented) or SIGTERM arrives.
pub async fn serve(data_dir: &Path, alias: &str, app: Router) -> anyhow::Result<()> {
    let socket = config::worker_socket(data_dir, alias);
    let _ = std::fs::remove_file(&socket);
    let listener = tokio::net::UnixListener::bind(&socket)?;
    tracing::info!(socket = %socket.display(), "{alias} serving");
    let parent = std::os::unix::process::parent_id();
    let orphaned = async move {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if std::os::unix::process::parent_id() != parent {
                tracing::info!("the supervisor is gone; exiting");
                return;
            }
        }
    };
    let terminated = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        term.recv().await;
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = orphaned => {}
                _ = terminated => {}
            }
        })
        .await?;
    Ok(())
}
