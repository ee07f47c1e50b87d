//! HS256 access tokens, validated with an explicit algorithm, expiry, issuer and leeway.
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Clock skew tolerated when checking `exp`, in seconds.
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    /// The session (refresh-token family) the token belongs to.
    pub sid: Uuid,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    ttl_secs: u64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], issuer: &str, ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_exp = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            ttl_secs,
        }
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    pub fn issue(&self, user_id: Uuid, session: Uuid) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            sid: session,
            iss: self.issuer.clone(),
            iat: now,
            exp: now + self.ttl_secs as i64,
        };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// The claims of a valid token; `None` for anything expired, forged or malformed.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"test-secret-of-sufficient-length", "chattconnect", 900)
    }

    #[test]
    fn a_fresh_token_verifies() {
        let keys = keys();
        let id = Uuid::now_v7();
        let session = Uuid::now_v7();
        let token = keys.issue(id, session).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.sid), (id, session));
    }

    #[test]
    fn wrong_issuer_and_unsigned_tokens_are_rejected() {
        let other = JwtKeys::new(b"test-secret-of-sufficient-length", "someone-else", 900);
        let token = other.issue(Uuid::now_v7(), Uuid::now_v7()).unwrap();
        assert!(keys().verify(&token).is_none());

        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = format!(
            r#"{{"sub":"{}","sid":"{}","iss":"chattconnect","iat":0,"exp":{}}}"#,
            Uuid::now_v7(),
            Uuid::now_v7(),
            chrono::Utc::now().timestamp() + 600
        );
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(payload)
        );
        assert!(keys().verify(&none).is_none());
    }
}
