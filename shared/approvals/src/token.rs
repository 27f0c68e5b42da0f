//! One-time approval tokens: 256 bits from the operating system's CSPRNG, handed
//! out once (in the approver's email) and stored only as their SHA-256 hash.
//!
//! Neither type prints its value: `Debug` is redacted, there is no `Display`, and
//! the raw text is reached only through [`Token::expose`], so a leak into a log
//! line has to be written on purpose.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::TryRngCore;
use sha2::{Digest, Sha256};

/// Bytes of entropy in a token.
pub const TOKEN_BYTES: usize = 32;
/// Length of a token's text: base64url, no padding.
pub const TOKEN_CHARS: usize = 43;

/// Why a token in a link cannot be a token we issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedToken {
    #[error("the token is missing")]
    Missing,
    #[error("the token has the wrong length")]
    Length,
    #[error("the token is not base64url")]
    Encoding,
}

/// The operating system's random source failed (retryable: it is not the input's fault).
#[derive(Debug, thiserror::Error)]
#[error("could not read random bytes: {0}")]
pub struct RandomUnavailable(String);

/// A raw token. Only the email step ever holds one it did not parse from a link.
#[derive(Clone, PartialEq, Eq)]
pub struct Token([u8; TOKEN_BYTES]);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// A fresh token from the OS CSPRNG (`getrandom`).
    pub fn generate() -> Result<Self, RandomUnavailable> {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rngs::OsRng.try_fill_bytes(&mut bytes).map_err(|e| RandomUnavailable(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// The token as it appears in a link (base64url, 43 characters).
    pub fn parse(text: &str) -> Result<Self, MalformedToken> {
        let text = text.trim();
        if text.is_empty() {
            return Err(MalformedToken::Missing);
        }
        if text.len() != TOKEN_CHARS {
            return Err(MalformedToken::Length);
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| MalformedToken::Encoding)?;
        let bytes: [u8; TOKEN_BYTES] = bytes.try_into().map_err(|_| MalformedToken::Length)?;
        Ok(Self(bytes))
    }

    /// The link text. Named so that every place a raw token leaves memory is easy to find.
    pub fn expose(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0).into())
    }
}

/// SHA-256 of a token: what the store keeps and conditions on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(…)")
    }
}

impl TokenHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    /// Compares without an early exit, so the time taken says nothing about how
    /// much of a guessed hash was right.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

/// Equal-length byte strings compared in time independent of their contents.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // Keeps the optimiser from turning the fold back into a short-circuiting compare.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_43_chars_distinct_and_round_trip() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_ne!(a, b);
        let text = a.expose();
        assert_eq!(text.len(), TOKEN_CHARS);
        assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{text}");
        assert_eq!(Token::parse(&text).unwrap(), a);
        assert!(a.hash().ct_eq(&Token::parse(&text).unwrap().hash()));
        assert!(!a.hash().ct_eq(&b.hash()));
    }

    #[test]
    fn malformed_tokens_are_told_apart() {
        assert_eq!(Token::parse(""), Err(MalformedToken::Missing));
        assert_eq!(Token::parse("abc"), Err(MalformedToken::Length));
        assert_eq!(Token::parse(&"!".repeat(TOKEN_CHARS)), Err(MalformedToken::Encoding));
    }

    #[test]
    fn nothing_prints_the_secret() {
        let t = Token::generate().unwrap();
        assert_eq!(format!("{t:?}"), "Token(…)");
        assert_eq!(format!("{:?}", t.hash()), "TokenHash(…)");
    }

    #[test]
    fn hashes_round_trip_through_hex() {
        let h = Token::generate().unwrap().hash();
        assert!(TokenHash::from_hex(&h.to_hex()).unwrap().ct_eq(&h));
        assert!(TokenHash::from_hex("zz").is_none());
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
