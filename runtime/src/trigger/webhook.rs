//! Inbound webhook signatures as Standard Webhooks (<https://www.standardwebhooks.com>)
//! defines them, so any sender with a Standard Webhooks library can call Sluice:
//! - `webhook-id`: the message's id, unique per message (a sender's retry repeats it);
//! - `webhook-timestamp`: when it was sent, in Unix seconds;
//! - `webhook-signature`: space-separated `v1,<base64>` entries, each the HMAC-SHA256 of
//!   `id.timestamp.body` under the workflow's secret; one right entry is enough.
//!
//! The secret is `whsec_` followed by the base64 of 32 random bytes; those bytes are the
//! HMAC key. Because the id and the timestamp are signed with the body, a captured request
//! cannot be given a new id or a new time: outside the tolerance its timestamp refuses it,
//! and inside it the service accepts each id once (see `api/hooks.rs`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The message id header.
pub const ID_HEADER: &str = "webhook-id";
/// The send time header (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The signature header.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// How secrets in the Standard Webhooks form begin.
pub const SECRET_PREFIX: &str = "whsec_";
/// The longest `webhook-id` accepted: the id becomes a store key.
pub const MAX_ID_LEN: usize = 256;
/// Signature entries looked at in one header, which bounds the work one request can cause.
const MAX_SIGNATURES: usize = 16;

/// The secrets store name of a workflow's signing secret.
pub fn secret_name(workflow: &str) -> String {
    format!("webhook.{workflow}")
}

/// The fire key under which the run a message started is recorded: a workflow starts at
/// most one run per message id.
pub fn fire_key(workflow: &str, id: &str) -> String {
    format!("webhook/{workflow}/{id}")
}

/// The HMAC key of a secret: the bytes its base64 encodes, after the `whsec_` prefix (as
/// the Standard Webhooks libraries read it, prefix or not).
fn key(secret: &str) -> Option<Vec<u8>> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(b64.trim()).ok().filter(|k| !k.is_empty())
}

/// The MAC of `id.timestamp.body`, ready to finalise or compare.
fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any size");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` value (one `v1,` entry) of a message; `None` when `secret` is not
/// in the base64 form.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let tag = mac(&key(secret)?, id, &timestamp.to_string(), body).finalize();
    Some(format!("v1,{}", STANDARD.encode(tag.into_bytes())))
}

/// The three headers of message `id` with `body`, signed now: for senders written in Rust
/// (the benchmark, the tests).
pub fn headers(secret: &str, id: &str, body: &[u8]) -> Option<[(&'static str, String); 3]> {
    let now = unix_now();
    Some([
        (ID_HEADER, id.to_owned()),
        (TIMESTAMP_HEADER, now.to_string()),
        (SIGNATURE_HEADER, sign(secret, id, now, body)?),
    ])
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A message's three headers as received (`None` where one is missing).
#[derive(Debug, Clone, Copy, Default)]
pub struct Message<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Why a message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// A header missing or malformed, or no signature entry right.
    BadSignature,
    /// Signed right, but sent further than the tolerance from now (a replay, or a clock
    /// that is off).
    Stale,
}

/// A verified message: its id and send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified<'a> {
    pub id: &'a str,
    pub timestamp: i64,
}

/// Whether `id` can be a message id: 1 to [`MAX_ID_LEN`] visible ASCII characters.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Checks `message`: its headers well-formed, one of its `v1` signatures right (each
/// compared in constant time), then its timestamp within `tolerance` seconds of `now`.
pub fn verify<'a>(
    secret: &str,
    message: Message<'a>,
    body: &[u8],
    now: i64,
    tolerance: u64,
) -> Result<Verified<'a>, Rejection> {
    let (Some(id), Some(ts_text), Some(signatures)) =
        (message.id, message.timestamp, message.signature)
    else {
        return Err(Rejection::BadSignature);
    };
    let (id, ts_text) = (id.trim(), ts_text.trim());
    let timestamp = match ts_text.parse::<i64>() {
        Ok(t) if valid_id(id) && ts_text.bytes().all(|b| b.is_ascii_digit()) => t,
        _ => return Err(Rejection::BadSignature),
    };
    let key = key(secret).ok_or(Rejection::BadSignature)?;
    let expected = mac(&key, id, ts_text, body);
    let signed = signatures
        .split_ascii_whitespace()
        .take(MAX_SIGNATURES)
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .any(|sig| expected.clone().verify_slice(&sig).is_ok());
    if !signed {
        return Err(Rejection::BadSignature);
    }
    if now.abs_diff(timestamp) > tolerance {
        return Err(Rejection::Stale);
    }
    Ok(Verified { id, timestamp })
}

/// A new random signing secret: `whsec_` and the base64 of 32 bytes.
pub fn generate_secret() -> Result<String, String> {
    let mut k = [0u8; 32];
    getrandom::fill(&mut k).map_err(|e| e.to_string())?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(k)))
}

/// Forgets, every so often until `stop`, the message ids whose timestamps left the
/// tolerance: their messages are refused as stale from then on, so keeping them would
/// only grow the store.
pub async fn forget_expired(
    store: std::sync::Arc<dyn crate::store::ServiceStore>,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let now = u64::try_from(unix_now()).unwrap_or_default();
        match store.fires_forget(now) {
            Ok(0) => {}
            Ok(n) => tracing::debug!("forgot {n} webhook message ids past the tolerance"),
            Err(e) => tracing::warn!("cannot forget expired webhook message ids: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> Message<'a> {
        Message {
            id: Some(id),
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    #[test]
    fn the_standard_webhooks_test_vector_signs_and_verifies() {
        // The example in the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let (id, ts) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330);
        let body = br#"{"test": 2432232314}"#;
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(sign(secret, id, ts, body).as_deref(), Some(expected));
        let got = verify(secret, message(id, "1614265330", expected), body, ts, 300);
        assert_eq!(got, Ok(Verified { id, timestamp: ts }));
        // The same key without its prefix, as the libraries accept it.
        assert!(
            verify(
                &secret[6..],
                message(id, "1614265330", expected),
                body,
                ts,
                300
            )
            .is_ok()
        );
    }

    #[test]
    fn only_a_right_signature_of_the_exact_id_time_and_body_verifies() {
        let secret = generate_secret().unwrap();
        assert!(secret.starts_with("whsec_") && key(&secret).unwrap().len() == 32);
        let other = generate_secret().unwrap();
        let body = br#"{"user":"jsmith"}"#;
        let now = unix_now();
        let ts = now.to_string();
        let good = sign(&secret, "msg_1", now, body).unwrap();
        let ok = |m: Message<'_>, b: &[u8]| verify(&secret, m, b, now, 300).map(|_| ());
        assert!(ok(message("msg_1", &ts, &good), body).is_ok());
        let bad: Result<(), Rejection> = Err(Rejection::BadSignature);
        // Another key, body, id or time.
        let wrong = sign(&other, "msg_1", now, body).unwrap();
        assert_eq!(ok(message("msg_1", &ts, &wrong), body), bad);
        assert_eq!(ok(message("msg_1", &ts, &good), br#"{"user":"root"}"#), bad);
        assert_eq!(ok(message("msg_2", &ts, &good), body), bad);
        assert_eq!(
            ok(message("msg_1", &(now + 1).to_string(), &good), body),
            bad
        );
        // Missing or malformed headers.
        for m in [
            Message::default(),
            Message {
                signature: None,
                ..message("msg_1", &ts, &good)
            },
            Message {
                id: None,
                ..message("msg_1", &ts, &good)
            },
            message("msg_1", &ts, good.trim_start_matches("v1,")),
            message("msg_1", &ts, &good.replace("v1,", "v2,")),
            message("msg_1", &ts, "v1,not base64!"),
            message("msg_1", &format!("+{ts}"), &good),
            message("msg_1", "soon", &good),
            message("", &ts, &good),
            message("has space", &ts, &good),
        ] {
            assert_eq!(ok(m, body), bad, "{m:?}");
        }
        let long = "m".repeat(MAX_ID_LEN + 1);
        let long_sig = sign(&secret, &long, now, body).unwrap();
        assert_eq!(ok(message(&long, &ts, &long_sig), body), bad);
        // Several entries (a rotation): any right one is enough.
        let several = format!("v1,AAAA {wrong} v1a,xyz {good}");
        assert!(ok(message("msg_1", &ts, &several), body).is_ok());
        // Right, but outside the tolerance either way.
        for t in [now - 301, now + 301] {
            let sig = sign(&secret, "msg_1", t, body).unwrap();
            let t_text = t.to_string();
            let m = message("msg_1", &t_text, &sig);
            assert_eq!(verify(&secret, m, body, now, 300), Err(Rejection::Stale));
        }
        let edge = now - 300;
        let sig = sign(&secret, "msg_1", edge, body).unwrap();
        assert!(ok(message("msg_1", &edge.to_string(), &sig), body).is_ok());
        // A secret that is not base64 signs nothing and verifies nothing.
        assert_eq!(sign("whsec_!!", "msg_1", now, body), None);
        assert_eq!(
            verify("whsec_!!", message("msg_1", &ts, &good), body, now, 300).map(|_| ()),
            bad
        );
    }

    #[test]
    fn a_message_id_is_remembered_until_forgotten_then_can_start_a_run_again() {
        let store = crate::store::temporary().unwrap();
        let fire = fire_key("greet", "msg_1");
        let record = serde_json::json!({});
        assert_eq!(store.run_put_once(&fire, "r1", &record).unwrap(), None);
        store.fire_expires(&fire, 100).unwrap();
        assert_eq!(store.fires_forget(99).unwrap(), 0);
        assert_eq!(
            store.run_put_once(&fire, "r2", &record).unwrap().as_deref(),
            Some("r1"),
            "remembered until its time"
        );
        assert_eq!(store.fires_forget(100).unwrap(), 1);
        assert_eq!(store.fires_forget(1000).unwrap(), 0);
        assert_eq!(store.run_put_once(&fire, "r3", &record).unwrap(), None);
    }
}
