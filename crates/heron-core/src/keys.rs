//! API keys and one-time tokens: generated with the OS random source, stored as sha256.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new API key: `heron_` and 40 hex characters (160 random bits).
pub fn generate_api_key() -> String {
    format!("heron_{}", random_hex(20))
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// The stored form of a key or token. Keys carry 160 random bits, so a plain hash is enough:
/// nothing to brute-force.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A run id like wandb's: 8 lowercase letters and digits.
pub fn random_run_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..8).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_hash_stably() {
        let a = generate_api_key();
        assert!(a.starts_with("heron_") && a.len() == 46);
        assert_ne!(a, generate_api_key());
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_eq!(hash_secret(&a).len(), 64);
    }
}
