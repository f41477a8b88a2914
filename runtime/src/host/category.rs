//! The category a plugin is listed under, so that an administrator picking a step among
//! some fifty plugins finds the user actions apart from the group, device or connector ones
//! (the console's plugin picker and Plugins page group by it; `GET /api/v1/plugins` gives
//! it with each plugin).
//!
//! Bundled plugins are categorised here, by name, in one table ([`BUNDLED`]); a test checks
//! that every bundled plugin is in it. Installed third-party plugins declare no category
//! (the plugin interface has none), so they are listed under [`INSTALLED`].

use super::registry::PluginRecord;

pub const USERS: &str = "Users";
pub const GROUPS: &str = "Groups";
pub const DEVICES: &str = "Devices";
pub const APPS_AND_POLICIES: &str = "Applications & policies";
pub const DIRECTORY_INSIGHTS: &str = "Directory Insights";
pub const PROVISIONING: &str = "Provisioning";
/// Data handling (`transform`, `compare`) and organisation-wide JumpCloud calls.
pub const GENERAL: &str = "General";
pub const CONNECTORS: &str = "Connectors";
/// Every installed (not bundled) plugin.
pub const INSTALLED: &str = "Installed";

/// Every category, in the order lists show them.
pub const CATEGORIES: &[&str] = &[
    USERS,
    GROUPS,
    DEVICES,
    APPS_AND_POLICIES,
    DIRECTORY_INSIGHTS,
    PROVISIONING,
    GENERAL,
    CONNECTORS,
    INSTALLED,
];

/// Each bundled plugin's category, by plugin name.
pub const BUNDLED: &[(&str, &[&str])] = &[
    (
        USERS,
        &[
            "user-get",
            "user-find",
            "user-list",
            "user-exists",
            "user-create",
            "user-update",
            "user-set-attributes",
            "user-add-ssh-key",
            "user-suspend",
            "user-reactivate",
            "user-deactivate",
            "user-unlock",
            "user-reset-password",
            "user-reset-mfa",
            "user-delete",
        ],
    ),
    (
        GROUPS,
        &[
            "group-find",
            "group-list",
            "group-create",
            "group-members",
            "group-add-member",
            "group-remove-member",
            "user-groups",
            "user-in-group",
        ],
    ),
    (
        DEVICES,
        &[
            "device-list",
            "device-get",
            "device-bind-user",
            "device-group-add",
            "user-devices",
        ],
    ),
    (
        APPS_AND_POLICIES,
        &["app-list", "app-bind-group", "user-apps", "policy-bind"],
    ),
    (DIRECTORY_INSIGHTS, &["events-query", "user-last-event"]),
    (
        PROVISIONING,
        &[
            "user-validate",
            "user-check-unique",
            "groups-resolve",
            "groups-verify",
            "user-groups-assign",
            "user-ldap-bind",
            "user-access-report",
        ],
    ),
    (
        GENERAL,
        &["transform", "compare", "jumpcloud-api", "admin-list"],
    ),
    (
        CONNECTORS,
        &["http-request", "jira", "slack-webhook", "webhook", "email"],
    ),
];

/// The category of the bundled plugin `name`, if the table has it.
pub fn bundled(name: &str) -> Option<&'static str> {
    BUNDLED
        .iter()
        .find(|(_, names)| names.contains(&name))
        .map(|(category, _)| *category)
}

/// The category `record` is listed under: its entry in [`BUNDLED`] for a bundled plugin
/// ([`GENERAL`] if a bundled plugin were missing from it), [`INSTALLED`] otherwise, also
/// when an installed plugin's name matches a bundled one's.
pub fn of(record: &PluginRecord) -> &'static str {
    if record.bundled {
        bundled(&record.name).unwrap_or(GENERAL)
    } else {
        INSTALLED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_plugin_has_one_category_and_each_category_is_listed() {
        let mut seen = std::collections::BTreeSet::new();
        for (category, names) in BUNDLED {
            assert!(
                CATEGORIES.contains(category),
                "{category} is not in CATEGORIES"
            );
            for n in *names {
                assert!(seen.insert(*n), "{n} is in two categories");
            }
        }
        assert_eq!(bundled("user-create"), Some(USERS));
        assert_eq!(bundled("jira"), Some(CONNECTORS));
        assert_eq!(bundled("no-such-plugin"), None);
    }
}
