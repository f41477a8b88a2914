//! `sample-pack`: the pack `acme`, as a vendor would ship an integration — three plugins of
//! two kinds in one component. `acme-user-email` reads a user through JumpCloud and declares
//! the scope for it; `acme-user-probe` makes the same call without declaring it, so the
//! tests can prove the host refuses it although its sibling in the same component holds the
//! grant; `acme-email-in-domain` is a condition that calls nothing.
//!
//! # Layout
//! One file: the three plugins, the pack's export, and their native tests on the SDK's test
//! host.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sluice_plugin::{Action, Condition, PluginError, Step};

/// A JumpCloud user, by id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UserRef {
    pub user_id: String,
}

/// The user's email.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Email {
    pub email: String,
}

#[derive(Deserialize)]
struct User {
    email: String,
}

fn email_of(user_id: &str) -> Result<Email, PluginError> {
    if user_id.is_empty() || !user_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(PluginError::invalid_input(
            "`user_id` is letters and digits",
        ));
    }
    let res = sluice_plugin::jumpcloud::get(&format!("/api/systemusers/{user_id}"), &[])?;
    if res.status == 404 {
        return Err(PluginError::new(
            "USER_NOT_FOUND",
            format!("no user {user_id}"),
        ));
    }
    let user: User = res.json()?;
    Ok(Email { email: user.email })
}

/// Reads a user's email; declares `jumpcloud:users.readonly`.
#[derive(Debug)]
pub struct UserEmail;

impl Action for UserEmail {
    type Input = UserRef;
    type Output = Email;
    const DESCRIPTION: &'static str = "Reads a JumpCloud user's email.";
    const PERMISSIONS: &'static [&'static str] = &["jumpcloud:users.readonly"];
    fn run(_: &Step, input: UserRef) -> Result<Email, PluginError> {
        email_of(&input.user_id)
    }
}

/// The same call as [`UserEmail`], declaring nothing: the host must refuse it.
#[derive(Debug)]
pub struct UserProbe;

impl Action for UserProbe {
    type Input = UserRef;
    type Output = Email;
    const DESCRIPTION: &'static str =
        "Reads a user's email without declaring the scope (refused by the host).";
    fn run(_: &Step, input: UserRef) -> Result<Email, PluginError> {
        email_of(&input.user_id)
    }
}

/// An email and a domain.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct InDomain {
    pub email: String,
    pub domain: String,
}

/// Whether the email is in the domain.
#[derive(Debug)]
pub struct EmailInDomain;

impl Condition for EmailInDomain {
    type Input = InDomain;
    const DESCRIPTION: &'static str = "True when the email address is in the domain.";
    fn evaluate(_: &Step, input: InDomain) -> Result<bool, PluginError> {
        let domain = input.domain.trim_start_matches('@').to_ascii_lowercase();
        Ok(input
            .email
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.to_ascii_lowercase() == domain))
    }
}

sluice_plugin::export_pack! {
    name = "acme",
    description = "Acme's directory helpers (a pack for the tests).",
    version = env!("CARGO_PKG_VERSION");
    action UserEmail = "acme-user-email",
    action UserProbe = "acme-user-probe",
    condition EmailInDomain = "acme-email-in-domain",
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin::testing::TestHost;

    #[test]
    fn the_condition_compares_domains_without_case() {
        let step = Step::default();
        let yes = r#"{"email":"Jane@Example.com","domain":"@example.com"}"#;
        assert!(sluice_plugin::run_condition::<EmailInDomain>(&step, yes).unwrap());
        let no = r#"{"email":"jane@example.org","domain":"example.com"}"#;
        assert!(!sluice_plugin::run_condition::<EmailInDomain>(&step, no).unwrap());
    }

    #[test]
    fn the_declared_plugin_reaches_jumpcloud_and_its_sibling_is_refused() {
        let host = TestHost::new();
        let missing = serde_json::json!({ "user_id": "000000000000000000000000" });
        // The declared call reaches the directory (which has no such user).
        let err = host.action::<UserEmail>(&missing).unwrap_err();
        assert_eq!(err.code, "USER_NOT_FOUND", "{err}");
        let refused = host.action::<UserProbe>(&missing).unwrap_err();
        assert_eq!(refused.code, "PERMISSION_DENIED", "{refused}");
    }
}
