//! The vault: secrets the platform must read back (managed servers' root passwords, agents'
//! secrets, access-key secrets) are sealed with the master key (ChaCha20-Poly1305, a random
//! nonce each) before they reach the metadb, and opened only where they are used.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

/// Why a sealed secret did not open. The message names no secret.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("sealing a secret failed")]
    Seal,
    #[error("a sealed secret is malformed: {0}")]
    Malformed(&'static str),
    #[error("a sealed secret does not open with this server's master key")]
    WrongKey,
}

pub struct Vault {
    key: [u8; 32],
}

impl Vault {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The secret sealed: nonce and ciphertext, in hex.
    pub fn seal(&self, secret: &str) -> Result<String, VaultError> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.key));
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
            .map_err(|_| VaultError::Seal)?;
        Ok(format!("{}{}", hex::encode(nonce), hex::encode(sealed)))
    }

    pub fn unseal(&self, sealed: &str) -> Result<String, VaultError> {
        let bytes = hex::decode(sealed).map_err(|_| VaultError::Malformed("not hex"))?;
        if bytes.len() < 12 {
            return Err(VaultError::Malformed("too short"));
        }
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.key));
        let plain = cipher
            .decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..])
            .map_err(|_| VaultError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| VaultError::Malformed("not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_its_key_only() {
        let vault = Vault::new([7; 32]);
        let sealed = vault.seal("s3cret").unwrap();
        assert!(!sealed.contains("s3cret"));
        assert_ne!(sealed, vault.seal("s3cret").unwrap(), "a nonce each");
        assert_eq!(vault.unseal(&sealed).unwrap(), "s3cret");
        assert!(matches!(
            Vault::new([8; 32]).unseal(&sealed),
            Err(VaultError::WrongKey)
        ));
        assert!(vault.unseal("zz").is_err());
    }
}
