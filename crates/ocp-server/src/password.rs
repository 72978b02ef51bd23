//! Password hashes (argon2id) computed on a few threads of their own.
//!
//! One hash takes 19 MiB and tens of milliseconds of a core. Run on tokio's blocking pool,
//! a burst of logins ran one hash per request at once, and every thread that had hashed kept
//! its 19 MiB in its malloc arena afterwards: 128 wrong passwords took the server from 30 MB
//! to 2.5 GB. Here a fixed number of threads hash, in turn; a request waits a few seconds for
//! one and is then answered 429, so memory stays at about threads x 19 MiB.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use ocp_api::ErrorCode;

use crate::http::Failure;

/// How long a request waits for a hashing thread before it is answered 429.
const WAIT: Duration = Duration::from_secs(5);

/// A valid argon2 hash of a random string, verified against when the user does not exist,
/// so that an unknown name costs what a known one does.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K2o4qCqfH9eXzwqHq0k7Sx0M7VbPpM0S1oJc8bG3YkE";

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads. Cheap to clone; the threads end when the last clone is dropped.
#[derive(Clone)]
pub struct Hashers {
    jobs: mpsc::SyncSender<Job>,
    slots: Arc<tokio::sync::Semaphore>,
}

impl Hashers {
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::sync_channel::<Job>(threads);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = queue.lock().expect("hash queue").recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("a hashing thread starts");
        }
        Self {
            jobs,
            slots: Arc::new(tokio::sync::Semaphore::new(threads)),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Failure> {
        let permit = tokio::time::timeout(WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| {
                Failure::new(
                    ErrorCode::TooManyRequests,
                    "too many password checks at once; try again in a moment",
                )
            })?
            .map_err(Failure::internal)?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _permit = permit;
            let _ = done.send(work());
        });
        // A slot is held, so a thread is free or about to be: this does not block for long.
        self.jobs.send(job).map_err(Failure::internal)?;
        result.await.map_err(Failure::internal)
    }

    /// The argon2 PHC string of a new password.
    pub async fn hash(&self, password: &str) -> Result<String, Failure> {
        let password = password.to_string();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Failure::internal(format!("hashing a password: {e}")))
        })
        .await?
    }

    /// Whether `password` matches the PHC string `hash`.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, Failure> {
        let (password, hash) = (password.to_string(), hash.to_string());
        self.run(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[tokio::test]
    async fn hashes_verify() {
        let hashers = Hashers::new(1);
        let hash = hashers.hash("Secret-123").await.unwrap();
        assert!(hashers.verify("Secret-123", &hash).await.unwrap());
        assert!(!hashers.verify("secret-123", &hash).await.unwrap());
    }
}
