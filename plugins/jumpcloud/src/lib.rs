//! The JumpCloud plugin catalogue: every action and condition admins compose workflows
//! from, as one crate that builds one component per cargo feature (`--features
//! user-create` builds the `user-create` plugin). The logic is plain Rust calling the
//! host's `jumpcloud` import through the SDK ([`api::call`]); the tests run it natively on
//! the SDK's test host (`sluice_plugin::testing`), over the JumpCloud simulator.
//!
//! # Layout
//! - [`api`]: the JumpCloud call, error mapping to the catalogue's codes, pagination, id/name lookups.
//! - [`users`], [`groups`], [`devices`], [`apps`], [`insights`], [`admin`]: the actions.
//! - [`provision`]: the steps of new-user provisioning the general actions do not cover.
//! - [`conditions`]: conditions not tied to one area.
//! - this file: the plugin types (name, description, scopes) and the per-feature exports.
//! - `tests/logic.rs`: the plugins and their logic on the SDK's test host, over the JumpCloud
//!   simulator.

pub mod admin;
pub mod api;
pub mod apps;
pub mod conditions;
pub mod devices;
pub mod groups;
pub mod insights;
pub mod provision;
pub mod users;

use sluice_plugin::{PluginError, Step};

/// Declares an action plugin type that runs `$f` over the host transport.
macro_rules! action {
    ($name:ident, $desc:literal, [$($perm:literal),*], $input:ty, $output:ty, $f:expr) => {
        action!($name, $desc, [$($perm),*], $input, $output, step |_step: &Step, input| $f(input));
    };
    // `$f` takes the step too (what it does on a repeated attempt).
    ($name:ident, $desc:literal, [$($perm:literal),*], $input:ty, $output:ty, step $f:expr) => {
        #[doc = $desc]
        #[derive(Debug)]
        pub struct $name;
        impl sluice_plugin::Action for $name {
            type Input = $input;
            type Output = $output;
            const DESCRIPTION: &'static str = $desc;
            const PERMISSIONS: &'static [&'static str] = &[$(concat!("jumpcloud:", $perm)),*];
            fn run(step: &Step, input: $input) -> Result<$output, PluginError> {
                $f(step, input)
            }
        }
    };
}

/// Declares a condition plugin type.
macro_rules! condition {
    ($name:ident, $desc:literal, [$($perm:literal),*], $input:ty, $f:path) => {
        #[doc = $desc]
        #[derive(Debug)]
        pub struct $name;
        impl sluice_plugin::Condition for $name {
            type Input = $input;
            const DESCRIPTION: &'static str = $desc;
            const PERMISSIONS: &'static [&'static str] = &[$(concat!("jumpcloud:", $perm)),*];
            fn evaluate(_step: &Step, input: $input) -> Result<bool, PluginError> {
                $f(input)
            }
        }
    };
}

action!(
    UserGet,
    "Reads one JumpCloud user, by id, username, email or employee id.",
    ["users.readonly"],
    api::UserRef,
    users::UserOut,
    users::get
);
action!(
    UserFind,
    "Looks a user up by username, email or employee id; not finding one is an answer (`found: false`), not an error.",
    ["users.readonly"],
    api::UserRef,
    users::FindOut,
    users::find
);
action!(
    UserList,
    "Lists users matching filters (department, state, any v1 filter), following pages.",
    ["users.readonly"],
    users::ListIn,
    users::ListOut,
    users::list
);
action!(
    UserCreate,
    "Creates a JumpCloud user with every attribute (unix ids, sudo, manager, custom attributes); generates a policy-compliant password when none is given and never returns it.",
    ["users", "systems"],
    users::CreateIn,
    users::CreateOut,
    step users::create_step
);
action!(
    UserUpdate,
    "Changes fields of a user (JumpCloud field names); passwords go through user-reset-password.",
    ["users", "systems"],
    users::UpdateIn,
    users::UserOut,
    users::update
);
action!(
    UserDelete,
    "Deletes a user (optionally clearing the manager of their direct reports).",
    ["users"],
    users::DeleteIn,
    users::DeleteOut,
    users::delete
);
action!(
    UserSuspend,
    "Suspends a user (state SUSPENDED); a suspended user is left as is.",
    ["users"],
    api::UserRef,
    users::StateOut,
    users::suspend
);
action!(
    UserReactivate,
    "Activates a STAGED user (with or without JumpCloud's activation email) or unsuspends a SUSPENDED one.",
    ["users"],
    users::ReactivateIn,
    users::ReactivateOut,
    users::reactivate
);
action!(
    UserDeactivate,
    "JumpCloud has no deactivation: suspends the user and removes every group membership and direct binding.",
    ["users", "groups", "systems", "applications"],
    api::UserRef,
    users::DeactivateOut,
    users::deactivate
);
action!(
    UserUnlock,
    "Unlocks a user locked out by failed logins.",
    ["users"],
    api::UserRef,
    users::DoneOut,
    users::unlock
);
action!(
    UserResetPassword,
    "Expires a user's password, or sets a generated policy-compliant one that is never returned.",
    ["users"],
    users::ResetPasswordIn,
    users::DoneOut,
    users::reset_password
);
action!(
    UserResetMfa,
    "Resets a user's MFA enrolment with an exclusion period (days) to enrol again.",
    ["users"],
    users::ResetMfaIn,
    users::MfaOut,
    users::reset_mfa
);
action!(
    UserAddSshKey,
    "Validates and adds an SSH public key to a user.",
    ["users"],
    users::SshKeyIn,
    users::SshKeyOut,
    users::add_ssh_key
);
action!(
    UserSetAttributes,
    "Sets custom attributes on a user, keeping the others unless asked to replace them.",
    ["users"],
    users::AttributesIn,
    users::AttributesOut,
    users::set_attributes
);
action!(
    GroupFind,
    "Finds a user or device group by id or name; not finding one is an answer.",
    ["groups.readonly"],
    groups::FindIn,
    groups::FindOut,
    groups::find
);
action!(
    GroupList,
    "Lists user or device groups, with v2 filters.",
    ["groups.readonly"],
    groups::ListIn,
    groups::ListOut,
    groups::list
);
action!(
    GroupCreate,
    "Creates a user or device group (returns the existing one of that name unless told not to).",
    ["groups"],
    groups::CreateIn,
    groups::CreateOut,
    groups::create
);
action!(
    GroupAddMember,
    "Adds a user to a user group; an existing membership is not an error.",
    ["groups", "users"],
    groups::MemberIn,
    groups::MemberOut,
    groups::add_member
);
action!(
    GroupRemoveMember,
    "Removes a user from a user group; a missing membership is not an error.",
    ["groups", "users"],
    groups::MemberIn,
    groups::MemberOut,
    groups::remove_member
);
action!(
    GroupMembers,
    "Lists the members of a user group with their usernames, emails and states.",
    ["groups.readonly", "users.readonly"],
    groups::MembersIn,
    groups::MembersOut,
    groups::members
);
action!(
    UserGroups,
    "Lists the user groups a user belongs to.",
    ["users.readonly", "groups.readonly"],
    api::UserRef,
    groups::UserGroupsOut,
    groups::user_groups
);
action!(
    DeviceList,
    "Lists devices, filtered by OS, OS family, hostname or any v1 filter.",
    ["systems.readonly"],
    devices::ListIn,
    devices::ListOut,
    devices::list
);
action!(
    DeviceGet,
    "Reads one device by id, display name or hostname.",
    ["systems.readonly"],
    api::DeviceRef,
    devices::DeviceOut,
    devices::get
);
action!(
    DeviceBindUser,
    "Binds a user to a device, with or without sudo; an existing binding gets the asked sudo setting.",
    ["users", "systems"],
    devices::BindIn,
    devices::BindOut,
    devices::bind_user
);
action!(
    UserDevices,
    "Lists the devices a user can log in to, directly or through groups, with sudo and the groups access comes through.",
    ["users.readonly", "systems.readonly", "groups.readonly"],
    api::UserRef,
    devices::UserDevicesOut,
    devices::user_devices
);
action!(
    DeviceGroupAdd,
    "Adds a device to a device group.",
    ["groups", "systems"],
    devices::GroupAddIn,
    devices::GroupAddOut,
    devices::group_add
);
action!(
    PolicyBind,
    "Binds a policy to a device or a device group.",
    ["systems", "groups"],
    devices::PolicyBindIn,
    devices::PolicyBindOut,
    devices::policy_bind
);
action!(
    AppList,
    "Lists the organisation's SSO applications.",
    ["applications.readonly"],
    apps::ListIn,
    apps::ListOut,
    apps::list
);
action!(
    UserApps,
    "Lists the applications a user can use and the groups access comes through.",
    ["users.readonly", "applications.readonly", "groups.readonly"],
    api::UserRef,
    apps::UserAppsOut,
    apps::user_apps
);
action!(
    AppBindGroup,
    "Gives a user group access to an application.",
    ["applications", "groups"],
    apps::BindGroupIn,
    apps::BindGroupOut,
    apps::bind_group
);
action!(
    AdminList,
    "Lists the organisation's administrators and their roles (read-only).",
    ["administrators.readonly"],
    admin::AdminsIn,
    admin::AdminsOut,
    admin::admins
);
action!(
    EventsQuery,
    "Queries Directory Insights events by service, time, event type and search term, following pages.",
    ["directoryinsights"],
    insights::QueryIn,
    insights::QueryOut,
    insights::query
);
action!(
    UserLastEvent,
    "The most recent Directory Insights event about or by a user.",
    ["directoryinsights"],
    insights::LastEventIn,
    insights::LastEventOut,
    insights::last_event
);
action!(
    JumpCloudApi,
    "A generic JumpCloud API call (method, path, query, body) for what the catalogue does not cover; still checked against the run-as role.",
    [
        "users",
        "groups",
        "systems",
        "applications",
        "directoryinsights",
        "administrators.readonly",
        "organizations.readonly"
    ],
    admin::CallIn,
    admin::CallOut,
    admin::call
);
condition!(
    UserExists,
    "True when a user with that id, username, email or employee id exists.",
    ["users.readonly"],
    api::UserRef,
    conditions::user_exists
);
condition!(
    UserInGroup,
    "True when the user is a member of the user group.",
    ["users.readonly", "groups.readonly"],
    groups::MemberIn,
    groups::user_in_group
);

// One declaration for both ways of building: `--features pack` builds the whole catalogue as
// one component, the pack `jumpcloud` (what Sluice bundles); `--features user-get` builds one
// plugin alone (see `export_plugin!`).
sluice_plugin::components! {
    crate = sluice_jumpcloud;
    pack = "jumpcloud", "The JumpCloud catalogue: users, groups, devices, policies, applications, administrators, Directory Insights and the steps of new-user provisioning.";
    action UserGet = "user-get",
    action UserFind = "user-find",
    action UserList = "user-list",
    action UserCreate = "user-create",
    action UserUpdate = "user-update",
    action UserDelete = "user-delete",
    action UserSuspend = "user-suspend",
    action UserReactivate = "user-reactivate",
    action UserDeactivate = "user-deactivate",
    action UserUnlock = "user-unlock",
    action UserResetPassword = "user-reset-password",
    action UserResetMfa = "user-reset-mfa",
    action UserAddSshKey = "user-add-ssh-key",
    action UserSetAttributes = "user-set-attributes",
    action GroupFind = "group-find",
    action GroupList = "group-list",
    action GroupCreate = "group-create",
    action GroupAddMember = "group-add-member",
    action GroupRemoveMember = "group-remove-member",
    action GroupMembers = "group-members",
    action UserGroups = "user-groups",
    action DeviceList = "device-list",
    action DeviceGet = "device-get",
    action DeviceBindUser = "device-bind-user",
    action UserDevices = "user-devices",
    action DeviceGroupAdd = "device-group-add",
    action PolicyBind = "policy-bind",
    action AppList = "app-list",
    action UserApps = "user-apps",
    action AppBindGroup = "app-bind-group",
    action AdminList = "admin-list",
    action EventsQuery = "events-query",
    action UserLastEvent = "user-last-event",
    action JumpCloudApi = "jumpcloud-api",
    action UserValidate = "user-validate",
    action UserCheckUnique = "user-check-unique",
    action GroupsResolve = "groups-resolve",
    action GroupsVerify = "groups-verify",
    action UserGroupsAssign = "user-groups-assign",
    action UserLdapBind = "user-ldap-bind",
    action UserAccessReport = "user-access-report",
    condition UserExists = "user-exists",
    condition UserInGroup = "user-in-group",
}

action!(
    UserValidate,
    "Checks a new user's input before anything is changed: names, username format, email, password policy, SSH key, UNIX ids (provisioning's error codes).",
    [],
    provision::ValidateIn,
    provision::ValidateOut,
    provision::validate
);
action!(
    UserCheckUnique,
    "Fails with USER_ALREADY_EXISTS when a user has the username, email or employee id.",
    ["users.readonly"],
    provision::UniqueIn,
    provision::UniqueOut,
    provision::check_unique
);
action!(
    GroupsResolve,
    "Maps defaults, department, job title, location and requested groups to the user groups to assign, each with its source.",
    [],
    provision::ResolveIn,
    provision::ResolveOut,
    provision::resolve
);
action!(
    GroupsVerify,
    "Splits groups into those that exist (with ids) and those that do not.",
    ["groups.readonly"],
    provision::VerifyIn,
    provision::VerifyOut,
    provision::verify
);
action!(
    UserGroupsAssign,
    "Adds a user to each group; then GROUP_NOT_FOUND or GROUP_MEMBERSHIP_FAILED for the rest, with what was assigned in the details.",
    ["groups", "users"],
    provision::AssignIn,
    provision::AssignOut,
    provision::assign
);
action!(
    UserLdapBind,
    "Binds a user to the organisation's LDAP server (or a named one).",
    ["users", "directories"],
    provision::LdapIn,
    provision::LdapOut,
    provision::ldap_bind
);
action!(
    UserAccessReport,
    "Reads a user back with every group, system, application, LDAP and RADIUS server it reaches and through which group.",
    [
        "users.readonly",
        "groups.readonly",
        "systems.readonly",
        "applications.readonly",
        "directories.readonly",
        "radius.readonly"
    ],
    provision::ReportIn,
    provision::ReportOut,
    provision::access_report
);
