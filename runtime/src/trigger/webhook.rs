//! Inbound webhook signatures: `X-Sluice-Signature: sha256=<hex>` where the hex is the
//! HMAC-SHA256 of the raw request body under the workflow's signing secret (GitHub's
//! scheme, so existing senders can be configured for it).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The request header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-sluice-signature";

/// The secrets store name of a workflow's signing secret.
pub fn secret_name(workflow: &str) -> String {
    format!("webhook.{workflow}")
}

/// The header value for `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is a valid signature of `body` (compared in constant time).
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// A new random signing secret (hex, 32 bytes).
pub fn generate_secret() -> Result<String, String> {
    let mut k = [0u8; 32];
    getrandom::fill(&mut k).map_err(|e| e.to_string())?;
    Ok(hex::encode(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_signature_of_the_exact_body_verifies() {
        let secret = b"s3cret";
        let body = br#"{"user":"jsmith"}"#;
        let good = sign(secret, body);
        assert!(verify(secret, body, Some(&good)));
        assert!(!verify(b"other", body, Some(&good)));
        assert!(!verify(secret, br#"{"user":"admin"}"#, Some(&good)));
        assert!(!verify(secret, body, None));
        assert!(!verify(
            secret,
            body,
            Some(good.trim_start_matches("sha256="))
        ));
        assert!(!verify(secret, body, Some("sha256=zz")));
        let mut flipped = good.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert!(!verify(
            secret,
            body,
            Some(std::str::from_utf8(&flipped).unwrap())
        ));
        assert_eq!(generate_secret().unwrap().len(), 64);
    }
}
