//! Component signatures: Ed25519 keys, signing, and checking a signature against the
//! trusted keys.
//!
//! The format is wasmsign2's embedded signature (the `wasmsign2` crate, which implements
//! the WebAssembly signatures proposal of the tool-conventions repository): a custom
//! section named `signature`, first in the component, holding an Ed25519 signature over
//! the SHA-256 of every section after it. Anything changed after signing, in any byte past
//! the 8-byte header, fails the check. Each signature's key id is the signer's public key
//! in wasmsign2's raw form (`0x01` then the 32-byte key), so any Sluice can check a
//! signature, and name its signer by fingerprint, without trusting the key; the secret key
//! file is wasmsign2's raw form too (`0x81`, then the 64-byte Ed25519 secret key).

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::code::Code;

/// How a public key is written for people and for `sluice trust add`.
const PUBLIC_PREFIX: &str = "ed25519:";

/// Who signed a component, as checked at install (and shown by `plugin inspect` and the
/// API's plugin record).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Signer {
    /// Part of the `sluice` binary: trusted as the binary is.
    Bundled,
    /// Signed by a trusted key, named as it was trusted (`sluice trust add NAME`).
    Trusted { key: String, fingerprint: String },
    /// Signed, the signature checks, but the key is not trusted.
    Untrusted { fingerprint: String },
    /// No signature (or installed before Sluice checked signatures).
    #[default]
    Unsigned,
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signer::Bundled => f.write_str("bundled (part of the sluice binary)"),
            Signer::Trusted { key, fingerprint } => {
                write!(f, "{key} (trusted key {fingerprint})")
            }
            Signer::Untrusted { fingerprint } => write!(f, "untrusted key {fingerprint}"),
            Signer::Unsigned => f.write_str("unsigned"),
        }
    }
}

/// Why a component's signature is refused. Nothing is installed.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error(
        "{0} is not signed, and installs here require a signature by a trusted key; sign it \
         (`sluice plugin sign FILE --key KEYFILE`) and trust the key (`sluice trust add NAME \
         PUBKEY`)"
    )]
    Required(String),
    #[error(
        "{label} is signed by the key {fingerprint}, which is not trusted, and installs here \
         require a signature by a trusted key; if you trust its publisher, add the key with \
         `sluice trust add NAME PUBKEY` (the publisher gives PUBKEY)"
    )]
    Untrusted { label: String, fingerprint: String },
    #[error(
        "{label}'s signature does not verify: {reason}; it was changed after it was signed, \
         or the signature is damaged. Nothing was installed; get the component again from \
         its publisher"
    )]
    Invalid { label: String, reason: String },
}

impl SignatureError {
    pub fn code(&self) -> Code {
        match self {
            SignatureError::Required(_) => Code::SignatureRequired,
            SignatureError::Untrusted { .. } => Code::SignatureUntrusted,
            SignatureError::Invalid { .. } => Code::SignatureInvalid,
        }
    }
}

/// A key that was not what was expected (a public key given as text, a secret key file).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "`{0}` is not a public key: give it as `ed25519:` followed by the 32-byte key in \
         base64, as `sluice plugin keygen` prints it"
    )]
    BadPublic(String),
    #[error(
        "{0} is not an Ed25519 secret key (the file `sluice plugin keygen --out` writes, or a \
         PEM private key)"
    )]
    BadSecret(String),
    #[error("cannot draw random bytes for a key: {0}")]
    Random(String),
    #[error("cannot sign {0}: {1}")]
    Sign(String, String),
}

impl KeyError {
    pub fn code(&self) -> Code {
        match self {
            KeyError::BadPublic(_) => Code::TrustKeyInvalid,
            KeyError::BadSecret(_) | KeyError::Sign(..) => Code::SigningKeyInvalid,
            KeyError::Random(_) => Code::RandomUnavailable,
        }
    }
}

/// An Ed25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(wasmsign2::PublicKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl PublicKey {
    /// Parses `ed25519:<base64 of the 32-byte key>` (surrounding blanks ignored).
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        let bad = || KeyError::BadPublic(text.chars().take(100).collect());
        let b64 = text.trim().strip_prefix(PUBLIC_PREFIX).ok_or_else(bad)?;
        let raw = STANDARD.decode(b64).map_err(|_| bad())?;
        if raw.len() != 32 {
            return Err(bad());
        }
        Self::from_raw(&raw).ok_or_else(bad)
    }

    fn from_raw(raw: &[u8]) -> Option<PublicKey> {
        let mut bytes = vec![0x01];
        bytes.extend_from_slice(raw);
        wasmsign2::PublicKey::from_bytes(&bytes).ok().map(PublicKey)
    }

    /// The key as `sluice trust add` takes it.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", STANDARD.encode(self.0.pk.as_ref()))
    }

    /// `sha256:` and the first 16 bytes of the key's SHA-256, in hex: how a key is named
    /// when it has no name.
    pub fn fingerprint(&self) -> String {
        let d = Sha256::digest(self.0.pk.as_ref());
        format!("sha256:{}", hex::encode(&d[..16]))
    }

    /// Whether `bytes` carry a signature by this key, over everything after the signature,
    /// among the signatures with key id `key_id` or none.
    fn verifies(&self, bytes: &[u8], key_id: &[u8]) -> bool {
        let mut key = self.0.clone();
        key.key_id = Some(key_id.to_vec());
        key.verify(&mut Cursor::new(bytes), None).is_ok()
    }
}

/// A secret key, read from a key file.
#[derive(Debug)]
pub struct SecretKey {
    key: wasmsign2::SecretKey,
    public: PublicKey,
}

impl SecretKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<SecretKey, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        let pair = ed25519_compact::KeyPair::try_from_seed(ed25519_compact::Seed::new(seed))
            .map_err(|e| KeyError::Random(e.to_string()))?;
        Self::from_compact(pair.sk).ok_or_else(|| KeyError::Random("an unusable key".into()))
    }

    fn from_compact(sk: ed25519_compact::SecretKey) -> Option<SecretKey> {
        let public = PublicKey::from_raw(sk.public_key().as_ref())?;
        Some(SecretKey {
            key: wasmsign2::SecretKey { sk },
            public,
        })
    }

    /// Reads a key file's bytes: wasmsign2's raw form (what `keygen` writes) or PEM.
    /// `label` names the file in the error.
    pub fn from_file_bytes(label: &str, bytes: &[u8]) -> Result<SecretKey, KeyError> {
        let key = wasmsign2::SecretKey::from_bytes(bytes)
            .ok()
            .or_else(|| {
                let text = std::str::from_utf8(bytes).ok()?;
                wasmsign2::SecretKey::from_pem(text).ok()
            })
            .ok_or_else(|| KeyError::BadSecret(label.to_owned()))?;
        // A key whose second half is not its public key would sign what no one can check.
        let sk = key.sk;
        if sk.validate_public_key(&sk.public_key()).is_err() {
            return Err(KeyError::BadSecret(label.to_owned()));
        }
        Self::from_compact(sk).ok_or_else(|| KeyError::BadSecret(label.to_owned()))
    }

    /// The key file's bytes (wasmsign2's raw form).
    pub fn to_file_bytes(&self) -> Vec<u8> {
        self.key.to_bytes()
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs a component (or core module): the bytes with a signature section first, in
    /// place of any signature it had.
    pub fn sign(&self, label: &str, bytes: &[u8]) -> Result<Vec<u8>, KeyError> {
        let fail = |e: wasmsign2::WSError| KeyError::Sign(label.to_owned(), e.to_string());
        let module = wasmsign2::Module::deserialize(&mut Cursor::new(bytes)).map_err(fail)?;
        let key_id = self.public.0.to_bytes();
        let signed = self.key.sign(module, Some(&key_id)).map_err(fail)?;
        let mut out = Vec::with_capacity(bytes.len() + 160);
        signed.serialize(&mut out).map_err(fail)?;
        Ok(out)
    }
}

/// A trusted key with the name it was trusted under.
#[derive(Debug, Clone)]
pub struct Trusted {
    pub name: String,
    pub key: PublicKey,
}

/// Checks a component's signature against the trusted keys: who signed it, or why the
/// signature is refused. A component without a signature section first is unsigned (the
/// loader judges whether it is a component at all). A signature that checks with no key —
/// neither a trusted one nor the key its key id names — is refused whatever the policy.
///
/// The format leaves a signature's key id outside what is signed, so Sluice holds it to
/// what it means: a 33-byte key id is a public key (wasmsign2's raw form), and only that key
/// may have made the signature; a key id of another length (wasmsign2's own tool writes a
/// 12-byte one) or none lets a trusted key check it. The section must also read back
/// byte for byte as it is written, so no byte of it can change unnoticed.
pub fn check(label: &str, bytes: &[u8], trusted: &[Trusted]) -> Result<Signer, SignatureError> {
    let Some(section) = signature_section(bytes) else {
        return Ok(Signer::Unsigned);
    };
    let invalid = |reason: &str| SignatureError::Invalid {
        label: label.to_owned(),
        reason: reason.to_owned(),
    };
    let data = section
        .signature_data()
        .ok()
        .filter(|d| {
            use wasmsign2::SectionLike as _;
            d.serialize().is_ok_and(|again| again == section.payload())
        })
        .ok_or_else(|| invalid("its signature section cannot be read"))?;
    let key_ids: Vec<&Vec<u8>> = data
        .signed_hashes_set
        .iter()
        .flat_map(|set| &set.signatures)
        .filter_map(|s| s.key_id.as_ref())
        .collect();
    let foreign: Vec<&Vec<u8>> = key_ids
        .iter()
        .copied()
        .filter(|id| id.len() != KEY_ID_LEN)
        .collect();
    for t in trusted {
        let own = t.key.0.to_bytes();
        if std::iter::once(&own)
            .chain(foreign.iter().copied())
            .any(|id| t.key.verifies(bytes, id))
        {
            return Ok(Signer::Trusted {
                key: t.name.clone(),
                fingerprint: t.key.fingerprint(),
            });
        }
    }
    let named = key_ids.iter().filter(|id| id.len() == KEY_ID_LEN);
    for id in named {
        if let Ok(k) = wasmsign2::PublicKey::from_bytes(id).map(PublicKey)
            && k.verifies(bytes, id)
        {
            return Ok(Signer::Untrusted {
                fingerprint: k.fingerprint(),
            });
        }
    }
    Err(invalid(if key_ids.len() == foreign.len() {
        "no trusted key signed it, and its signature names no key to check it with"
    } else {
        "the signature does not match the component's content"
    }))
}

/// A key id that is a public key: wasmsign2's raw form, `0x01` and 32 bytes.
const KEY_ID_LEN: usize = 33;

/// The signature section, if the bytes start with one.
fn signature_section(bytes: &[u8]) -> Option<wasmsign2::CustomSection> {
    let mut reader = Cursor::new(bytes);
    let stream = wasmsign2::Module::init_from_reader(&mut reader).ok()?;
    let first = wasmsign2::Module::iterate(stream).ok()?.next()?.ok()?;
    match first {
        wasmsign2::Section::Custom(s) if s.is_signature_header() => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest component: the header alone, then one custom section.
    fn component() -> Vec<u8> {
        let mut c = vec![0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
        // custom section: id 0, size, name "note", payload
        let payload = b"\x04notehello";
        c.push(0);
        c.push(payload.len() as u8);
        c.extend_from_slice(payload);
        c
    }

    fn trusted(name: &str, key: &SecretKey) -> Trusted {
        Trusted {
            name: name.into(),
            key: key.public().clone(),
        }
    }

    #[test]
    fn public_keys_round_trip_through_their_text_and_bad_text_is_refused() {
        let k = SecretKey::generate().unwrap();
        let text = k.public().to_text();
        assert!(text.starts_with("ed25519:"), "{text}");
        assert_eq!(
            &PublicKey::parse(&format!(" {text}\n")).unwrap(),
            k.public()
        );
        for bad in [
            "",
            "ed25519:",
            "ed25519:not base64!",
            "ed25519:AAAA",
            &text[8..],
            "ssh-ed25519 AAAA",
        ] {
            let e = PublicKey::parse(bad).unwrap_err();
            assert_eq!(e.code(), Code::TrustKeyInvalid, "{bad:?}");
        }
        assert_eq!(k.public().fingerprint().len(), "sha256:".len() + 32);
    }

    #[test]
    fn a_key_file_reads_back_and_other_bytes_are_refused() {
        let k = SecretKey::generate().unwrap();
        let again = SecretKey::from_file_bytes("k", &k.to_file_bytes()).unwrap();
        assert_eq!(again.public(), k.public());
        let pem = k.key.to_pem();
        let from_pem = SecretKey::from_file_bytes("k", pem.as_bytes()).unwrap();
        assert_eq!(from_pem.public(), k.public());
        for bad in [&b""[..], b"hello", &k.public().0.to_bytes()] {
            let e = SecretKey::from_file_bytes("k", bad).unwrap_err();
            assert_eq!(e.code(), Code::SigningKeyInvalid);
        }
    }

    #[test]
    fn a_signature_names_its_signer_and_any_changed_byte_is_refused() {
        let (alice, mallory) = (
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap(),
        );
        let plain = component();
        assert_eq!(check("c", &plain, &[]).unwrap(), Signer::Unsigned);

        let signed = alice.sign("c", &plain).unwrap();
        let keys = [trusted("alice", &alice)];
        assert_eq!(
            check("c", &signed, &keys).unwrap(),
            Signer::Trusted {
                key: "alice".into(),
                fingerprint: alice.public().fingerprint()
            }
        );
        // Not trusted: still checked, and named by fingerprint.
        assert_eq!(
            check("c", &signed, &[trusted("mallory", &mallory)]).unwrap(),
            Signer::Untrusted {
                fingerprint: alice.public().fingerprint()
            }
        );
        // Signing again replaces the signature.
        let resigned = mallory.sign("c", &signed).unwrap();
        assert!(matches!(
            check("c", &resigned, &keys).unwrap(),
            Signer::Untrusted { .. }
        ));
        // Every byte past the header counts.
        for i in 8..signed.len() {
            let mut tampered = signed.clone();
            tampered[i] ^= 0x01;
            match check("c", &tampered, &keys) {
                Err(e) => assert_eq!(e.code(), Code::SignatureInvalid, "byte {i}: {e}"),
                // The signature section's own id, size or name changed: the component
                // no longer starts with a signature section (the policy refuses it).
                Ok(Signer::Unsigned) => assert!((8..=20).contains(&i), "byte {i}"),
                Ok(other) => panic!("byte {i} changed, and the signer is still {other:?}"),
            }
        }
    }

    #[test]
    fn a_signature_with_no_key_to_check_it_is_refused() {
        let alice = SecretKey::generate().unwrap();
        // Signed as wasmsign2's own tool does by default: a key id that is not a key.
        let module = wasmsign2::Module::deserialize(&mut Cursor::new(component())).unwrap();
        let signed = alice.key.sign(module, Some(&vec![7; 12])).unwrap();
        let mut bytes = Vec::new();
        signed.serialize(&mut bytes).unwrap();
        let e = check("c", &bytes, &[]).unwrap_err();
        assert_eq!(e.code(), Code::SignatureInvalid, "{e}");
        // Trusting the key settles it.
        assert!(matches!(
            check("c", &bytes, &[trusted("alice", &alice)]).unwrap(),
            Signer::Trusted { .. }
        ));
    }
}
