//! Password hashes (argon2id) computed on a few threads of their own.
//!
//! One hash takes 19 MiB and tens of milliseconds of a core. Run on tokio's blocking pool,
//! a burst of logins ran one hash per request at once, and every thread that had hashed kept
//! its 19 MiB in its malloc arena afterwards: 128 wrong passwords took the server from 30 MB
//! to 2.5 GB. Here a fixed number of threads hash, in turn, each in one block of memory it
//! keeps and reuses (argon2's own allocation per hash left the heap growing by 19 MiB a
//! hash); a request waits a few seconds for a thread and is then answered 429. Memory stays
//! at about threads x 19 MiB.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use ocp_api::ErrorCode;

use crate::error::Failure;

/// How long a request waits for a hashing thread before it is answered 429.
const WAIT: Duration = Duration::from_secs(5);

/// A valid argon2 hash of a random string, verified against when the user does not exist,
/// so that an unknown name costs what a known one does.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K2o4qCqfH9eXzwqHq0k7Sx0M7VbPpM0S1oJc8bG3YkE";

/// A hashing thread's working memory, reused from one hash to the next.
type Memory = Vec<Block>;
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The most memory a stored hash may ask for (KiB): more means a corrupt or hostile row.
const MAX_BLOCKS: usize = 64 * 1024;

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
                .spawn(move || {
                    let mut memory = Memory::new();
                    loop {
                        let job = queue.lock().expect("hash queue").recv();
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
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
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
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
        let job: Job = Box::new(move |memory| {
            let _permit = permit;
            let _ = done.send(work(memory));
        });
        // A slot is held, so a thread is free or about to be: this does not block for long.
        self.jobs.send(job).map_err(Failure::internal)?;
        result.await.map_err(Failure::internal)
    }

    /// The argon2id PHC string of a new password (the default parameters: 19 MiB, 2 passes).
    pub async fn hash(&self, password: &str) -> Result<String, Failure> {
        let password = password.to_string();
        self.run(move |memory| hash_with(memory, &password))
            .await?
            .map_err(|e| Failure::internal(format!("hashing a password: {e}")))
    }

    /// Whether `password` matches the PHC string `hash` (false for a hash that does not parse).
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, Failure> {
        let (password, hash) = (password.to_string(), hash.to_string());
        self.run(move |memory| verify_with(memory, &password, &hash).unwrap_or(false))
            .await
    }
}

/// The first `n` blocks of `memory`, grown to them if need be.
fn blocks(memory: &mut Memory, n: usize) -> Result<&mut [Block], String> {
    if n > MAX_BLOCKS {
        return Err(format!("a hash that needs {n} KiB"));
    }
    if memory.len() < n {
        memory.resize(n, Block::default());
    }
    Ok(&mut memory[..n])
}

fn hash_with(memory: &mut Memory, password: &str) -> Result<String, String> {
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_raw = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(|e| e.to_string())?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let memory = blocks(memory, params.block_count())?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), salt_raw, &mut out, memory)
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

fn verify_with(memory: &mut Memory, password: &str, hash: &str) -> Result<bool, String> {
    let parsed = PasswordHash::new(hash).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| e.to_string())?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| e.to_string())?;
    let expected = parsed.hash.ok_or("no hash")?;
    let salt = parsed.salt.ok_or("no salt")?;
    let mut salt_buf = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_buf).map_err(|e| e.to_string())?;
    let mut out = vec![0u8; expected.len()];
    let memory = blocks(memory, params.block_count())?;
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt_raw, &mut out, memory)
        .map_err(|e| e.to_string())?;
    // Output compares in constant time.
    Ok(Output::new(&out).map_err(|e| e.to_string())? == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_as_the_library_does() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let hashers = Hashers::new(1);
        let hash = hashers.hash("Secret-123").await.unwrap();
        assert!(hashers.verify("Secret-123", &hash).await.unwrap());
        assert!(!hashers.verify("secret-123", &hash).await.unwrap());
        assert!(!hashers.verify("Secret-123", "not a hash").await.unwrap());
        // Ours and the library's own are the same hashes.
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default()
            .verify_password(b"Secret-123", &parsed)
            .is_ok());
        let theirs = Argon2::default()
            .hash_password(b"abc", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(hashers.verify("abc", &theirs).await.unwrap());
    }
}
