//! argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), always off the
//! async runtime, and at most one hash per CPU at a time: each takes 19 MiB, and
//! a burst of sign-ins must queue rather than grow memory (and threads) without
//! bound.
use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// Runs a hashing job on the blocking pool once a CPU slot is free.
async fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let _slot = slots().acquire().await?;
    Ok(tokio::task::spawn_blocking(job).await?)
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    run(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await?
}

/// A hash of a random password, verified against when the user does not exist,
/// so that a login for an unknown user costs the same as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random: [u8; 16] = rand::random();
        hasher()
            .hash_password(&random)
            .map(|h| h.to_string())
            .expect("hashing a random password")
    })
}

/// Checks `password` against `stored`, or against a dummy hash when `stored` is
/// `None`; only a real match returns true.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    run(move || {
        let exists = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = hasher().verify_password(password.as_bytes(), hash.as_str()).is_ok();
        ok && exists
    })
    .await
}

/// Builds the dummy hash ahead of the first login.
pub fn warm_up() {
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_with_the_right_password() {
        let stored = hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse".into(), Some(stored.clone())).await.unwrap());
        assert!(!verify("wrong horse".into(), Some(stored)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }
}
