//! What JumpCloud accepts in a user's fields: the username and email forms, the password
//! policy, OpenSSH public keys. The simulator refuses what breaks them, and the catalogue
//! plugins check the same rules before they call (so a provisioning run reports every bad
//! field at once). One copy serves both: this module needs nothing, so the catalogue
//! depends on the crate without its default `simulator` feature, which builds for
//! `wasm32-wasip2` with no dependency at all.

/// A username: letters, digits, `.`, `-` and `_`, starting with a letter or digit.
pub fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 1024
        && u.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// An email address: one `@`, a local part, a dotted domain, no whitespace.
pub fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}

/// A requirement of the password policy (documented in docs/jumpcloud.md): at least 8
/// characters with an upper-case letter, a lower-case letter, a digit and a special
/// character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRule {
    MinLength,
    UpperCase,
    LowerCase,
    Number,
    SpecialCharacter,
}

impl PasswordRule {
    /// The name JumpCloud's API gives it in a refusal.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::MinLength => "minLength",
            Self::UpperCase => "upperCase",
            Self::LowerCase => "lowerCase",
            Self::Number => "number",
            Self::SpecialCharacter => "specialCharacter",
        }
    }

    /// What the password needs, for a person.
    pub fn needs(self) -> &'static str {
        match self {
            Self::MinLength => "at least 8 characters",
            Self::UpperCase => "an upper-case letter",
            Self::LowerCase => "a lower-case letter",
            Self::Number => "a digit",
            Self::SpecialCharacter => "a special character",
        }
    }
}

/// The requirements `pw` breaks, in the policy's order (none: it is accepted).
pub fn password_violations(pw: &str) -> Vec<PasswordRule> {
    let checks = [
        (PasswordRule::MinLength, pw.chars().count() >= 8),
        (PasswordRule::UpperCase, pw.chars().any(char::is_uppercase)),
        (PasswordRule::LowerCase, pw.chars().any(char::is_lowercase)),
        (PasswordRule::Number, pw.chars().any(|c| c.is_ascii_digit())),
        (
            PasswordRule::SpecialCharacter,
            pw.chars().any(|c| !c.is_alphanumeric()),
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(rule, holds)| (!holds).then_some(rule))
        .collect()
}

/// The key algorithms an OpenSSH public key may name.
pub const SSH_KEY_TYPES: &[&str] = &[
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
];

/// What is wrong with an OpenSSH public key (`ALG BASE64 [comment]`), if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshKeyProblem {
    /// The first word is not one of [`SSH_KEY_TYPES`].
    UnknownType,
    /// The second word is missing, short or not base64.
    NotBase64,
}

/// Checks an OpenSSH public key: a known algorithm and a base64 body.
pub fn ssh_key_problem(key: &str) -> Option<SshKeyProblem> {
    let mut parts = key.split_whitespace();
    let alg = parts.next().unwrap_or_default();
    let blob = parts.next().unwrap_or_default();
    if !SSH_KEY_TYPES.contains(&alg) {
        return Some(SshKeyProblem::UnknownType);
    }
    let base64 = blob.len() >= 16
        && blob
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    (!base64).then_some(SshKeyProblem::NotBase64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["ada", "a.b-c_d", "9lives"] {
            assert!(valid_username(ok), "{ok}");
        }
        for bad in ["", ".ada", "ada lovelace", "ada@x", &"a".repeat(1025)] {
            assert!(!valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(valid_email("ada@example.com"));
        for bad in [
            "ada",
            "@example.com",
            "ada@example",
            "ada@.com",
            "ada@com.",
            "a b@x.com",
            "a@b@c.com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn passwords_report_each_rule_they_break_in_order() {
        assert!(password_violations("Str0ng!pass").is_empty());
        assert_eq!(
            password_violations("abc"),
            [
                PasswordRule::MinLength,
                PasswordRule::UpperCase,
                PasswordRule::Number,
                PasswordRule::SpecialCharacter
            ]
        );
        assert_eq!(password_violations("abcdefgh")[0].api_name(), "upperCase");
        assert_eq!(PasswordRule::Number.needs(), "a digit");
    }

    #[test]
    fn ssh_keys() {
        let body = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        assert_eq!(
            ssh_key_problem(&format!("ssh-ed25519 {body} ada@laptop")),
            None
        );
        assert_eq!(
            ssh_key_problem(&format!("ssh-dss {body}")),
            Some(SshKeyProblem::UnknownType)
        );
        assert_eq!(
            ssh_key_problem("ssh-ed25519 short"),
            Some(SshKeyProblem::NotBase64)
        );
        assert_eq!(
            ssh_key_problem("ssh-ed25519"),
            Some(SshKeyProblem::NotBase64)
        );
        assert_eq!(ssh_key_problem(""), Some(SshKeyProblem::UnknownType));
    }
}
