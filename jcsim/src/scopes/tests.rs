//! The scope table against every call the simulator serves: each row says what a call
//! needs, and a route added to the router without a row fails here.

use std::collections::BTreeSet;

use serde_json::json;

use super::*;

/// [`jumpcloud_needs`] as scope names joined by ` + `. `extra` is `targets=T[,T]`
/// (the query of an associations listing), `type=T` or `type=T,sudo` (the body of an
/// association or membership change), `sudo` (a v1 user body setting sudo) or empty.
fn needs(method: &str, path: &str, extra: &str) -> Result<String, String> {
    let path = path.replace("{id}", "5f1b2c3d4e5f60718293a4b5");
    let mut query = Vec::new();
    let mut body = None;
    if let Some(t) = extra.strip_prefix("targets=") {
        query.push(("targets".to_owned(), t.to_owned()));
    } else if let Some(t) = extra.strip_prefix("type=") {
        let (t, sudo) = match t.strip_suffix(",sudo") {
            Some(t) => (t, true),
            None => (t, false),
        };
        let mut b = json!({"op": "add", "type": t, "id": "5f1b2c3d4e5f60718293a4b6"});
        if sudo {
            b["attributes"] = json!({"sudo": {"enabled": true, "withoutPassword": true}});
        }
        body = Some(b.to_string());
    } else if extra == "sudo" {
        body = Some(json!({"username": "eve", "sudo": true}).to_string());
    } else {
        assert!(extra.is_empty(), "unknown table extra `{extra}`");
    }
    jumpcloud_needs(method, &path, &query, body.as_deref()).map(|n| n.names().join(" + "))
}

fn with_body(method: &str, path: &str, body: &str) -> Result<String, String> {
    jumpcloud_needs(method, path, &[], Some(body)).map(|n| n.names().join(" + "))
}

/// Method, path, [`needs`]'s `extra`, and what the call needs. Every route the simulator
/// serves has a row (checked against its router below), and every association type it
/// accepts from each side.
#[rustfmt::skip]
const TABLE: &[(&str, &str, &str, &str)] = &[
    // v1 users
    ("GET", "/api/systemusers", "", "users.readonly"),
    ("POST", "/api/systemusers", "", "users"),
    ("POST", "/api/systemusers", "sudo", "users + systems"),
    ("POST", "/api/search/systemusers", "", "users.readonly"),
    ("GET", "/api/systemusers/{id}", "", "users.readonly"),
    ("PUT", "/api/systemusers/{id}", "", "users"),
    ("PUT", "/api/systemusers/{id}", "sudo", "users + systems"),
    ("DELETE", "/api/systemusers/{id}", "", "users"),
    ("POST", "/api/systemusers/{id}/unlock", "", "users"),
    ("POST", "/api/systemusers/{id}/resetmfa", "", "users"),
    ("POST", "/api/systemusers/{id}/expire", "", "users"),
    ("POST", "/api/systemusers/{id}/state/activate", "", "users"),
    ("GET", "/api/systemusers/{id}/sshkeys", "", "users.readonly"),
    ("POST", "/api/systemusers/{id}/sshkeys", "", "users"),
    ("DELETE", "/api/systemusers/{id}/sshkeys/{id}", "", "users"),
    // v1 bindings of users to devices (not in the simulator): both ends
    ("GET", "/api/systemusers/{id}/systems", "", "users.readonly + systems.readonly"),
    ("PUT", "/api/systemusers/{id}/systems", "", "users + systems"),
    ("PUT", "/api/systems/{id}/systemusers", "", "users + systems"),
    // v1 administrators, devices, applications, organisations
    ("GET", "/api/users", "", "administrators.readonly"),
    ("DELETE", "/api/users/{id}", "", "administrators"),
    ("GET", "/api/systems", "", "systems.readonly"),
    ("GET", "/api/systems/{id}", "", "systems.readonly"),
    ("DELETE", "/api/systems/{id}", "", "systems"),
    ("POST", "/api/search/systems", "", "systems.readonly"),
    ("GET", "/api/applications", "", "applications.readonly"),
    ("GET", "/api/applications/{id}", "", "applications.readonly"),
    ("PUT", "/api/organizations/{id}", "", "organizations"),
    // v2 groups and their members
    ("GET", "/api/v2/usergroups", "", "groups.readonly"),
    ("POST", "/api/v2/usergroups", "", "groups"),
    ("GET", "/api/v2/usergroups/{id}", "", "groups.readonly"),
    ("PUT", "/api/v2/usergroups/{id}", "", "groups"),
    ("PATCH", "/api/v2/usergroups/{id}", "", "groups"),
    ("DELETE", "/api/v2/usergroups/{id}", "", "groups"),
    ("GET", "/api/v2/usergroups/{id}/members", "", "groups.readonly + users.readonly"),
    ("POST", "/api/v2/usergroups/{id}/members", "type=user", "groups + users"),
    ("GET", "/api/v2/usergroups/{id}/membership", "", "groups.readonly + users.readonly"),
    ("GET", "/api/v2/systemgroups", "", "groups.readonly"),
    ("POST", "/api/v2/systemgroups", "", "groups"),
    ("GET", "/api/v2/systemgroups/{id}", "", "groups.readonly"),
    ("PUT", "/api/v2/systemgroups/{id}", "", "groups"),
    ("PATCH", "/api/v2/systemgroups/{id}", "", "groups"),
    ("DELETE", "/api/v2/systemgroups/{id}", "", "groups"),
    ("GET", "/api/v2/systemgroups/{id}/members", "", "groups.readonly + systems.readonly"),
    ("POST", "/api/v2/systemgroups/{id}/members", "type=system", "groups + systems"),
    ("GET", "/api/v2/systemgroups/{id}/membership", "", "groups.readonly + systems.readonly"),
    // associations, listed: both ends read
    ("GET", "/api/v2/users/{id}/associations", "targets=system", "users.readonly + systems.readonly"),
    ("GET", "/api/v2/users/{id}/associations", "targets=ldap_server,radius_server", "users.readonly + directories.readonly + radius.readonly"),
    ("GET", "/api/v2/usergroups/{id}/associations", "targets=system_group", "groups.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/associations", "targets=user", "groups.readonly + users.readonly"),
    ("GET", "/api/v2/systems/{id}/associations", "targets=user,policy", "systems.readonly + users.readonly"),
    ("GET", "/api/v2/applications/{id}/associations", "targets=user_group", "applications.readonly + groups.readonly"),
    ("GET", "/api/v2/policies/{id}/associations", "targets=system_group", "systems.readonly + groups.readonly"),
    // associations, changed: both ends written, whichever side; sudo needs systems
    ("POST", "/api/v2/users/{id}/associations", "type=system", "users + systems"),
    ("POST", "/api/v2/users/{id}/associations", "type=system,sudo", "users + systems"),
    ("POST", "/api/v2/users/{id}/associations", "type=system_group", "users + groups"),
    ("POST", "/api/v2/users/{id}/associations", "type=system_group,sudo", "users + groups + systems"),
    ("POST", "/api/v2/users/{id}/associations", "type=application", "users + applications"),
    ("POST", "/api/v2/users/{id}/associations", "type=ldap_server", "users + directories"),
    ("POST", "/api/v2/users/{id}/associations", "type=radius_server", "users + radius"),
    ("POST", "/api/v2/usergroups/{id}/associations", "type=system", "groups + systems"),
    ("POST", "/api/v2/usergroups/{id}/associations", "type=system_group", "groups"),
    ("POST", "/api/v2/usergroups/{id}/associations", "type=system_group,sudo", "groups + systems"),
    ("POST", "/api/v2/usergroups/{id}/associations", "type=application", "groups + applications"),
    ("POST", "/api/v2/usergroups/{id}/associations", "type=ldap_server", "groups + directories"),
    ("POST", "/api/v2/usergroups/{id}/associations", "type=radius_server", "groups + radius"),
    ("POST", "/api/v2/systems/{id}/associations", "type=user", "systems + users"),
    ("POST", "/api/v2/systems/{id}/associations", "type=user,sudo", "systems + users"),
    ("POST", "/api/v2/systems/{id}/associations", "type=user_group", "systems + groups"),
    ("POST", "/api/v2/systems/{id}/associations", "type=policy", "systems"),
    ("POST", "/api/v2/systemgroups/{id}/associations", "type=user", "groups + users"),
    ("POST", "/api/v2/systemgroups/{id}/associations", "type=user,sudo", "groups + users + systems"),
    ("POST", "/api/v2/systemgroups/{id}/associations", "type=user_group", "groups"),
    ("POST", "/api/v2/systemgroups/{id}/associations", "type=user_group,sudo", "groups + systems"),
    ("POST", "/api/v2/systemgroups/{id}/associations", "type=policy", "groups + systems"),
    ("POST", "/api/v2/applications/{id}/associations", "type=user", "applications + users"),
    ("POST", "/api/v2/applications/{id}/associations", "type=user_group", "applications + groups"),
    ("POST", "/api/v2/policies/{id}/associations", "type=system", "systems"),
    ("POST", "/api/v2/policies/{id}/associations", "type=system_group", "systems + groups"),
    // the other sides (not in the simulator)
    ("POST", "/api/v2/commands/{id}/associations", "type=system", "commands + systems"),
    ("POST", "/api/v2/ldapservers/{id}/associations", "type=user", "directories + users"),
    ("POST", "/api/v2/radiusservers/{id}/associations", "type=user_group", "radius + groups"),
    // traversals: both ends read
    ("GET", "/api/v2/users/{id}/memberof", "", "users.readonly + groups.readonly"),
    ("GET", "/api/v2/users/{id}/users", "", "users.readonly"),
    ("GET", "/api/v2/users/{id}/usergroups", "", "users.readonly + groups.readonly"),
    ("GET", "/api/v2/users/{id}/systems", "", "users.readonly + systems.readonly"),
    ("GET", "/api/v2/users/{id}/systemgroups", "", "users.readonly + groups.readonly"),
    ("GET", "/api/v2/users/{id}/applications", "", "users.readonly + applications.readonly"),
    ("GET", "/api/v2/users/{id}/policies", "", "users.readonly + systems.readonly"),
    ("GET", "/api/v2/users/{id}/ldapservers", "", "users.readonly + directories.readonly"),
    ("GET", "/api/v2/users/{id}/radiusservers", "", "users.readonly + radius.readonly"),
    ("GET", "/api/v2/users/{id}/directories", "", "users.readonly + directories.readonly"),
    ("GET", "/api/v2/usergroups/{id}/memberof", "", "groups.readonly"),
    ("GET", "/api/v2/usergroups/{id}/users", "", "groups.readonly + users.readonly"),
    ("GET", "/api/v2/usergroups/{id}/usergroups", "", "groups.readonly"),
    ("GET", "/api/v2/usergroups/{id}/systems", "", "groups.readonly + systems.readonly"),
    ("GET", "/api/v2/usergroups/{id}/systemgroups", "", "groups.readonly"),
    ("GET", "/api/v2/usergroups/{id}/applications", "", "groups.readonly + applications.readonly"),
    ("GET", "/api/v2/usergroups/{id}/policies", "", "groups.readonly + systems.readonly"),
    ("GET", "/api/v2/usergroups/{id}/ldapservers", "", "groups.readonly + directories.readonly"),
    ("GET", "/api/v2/usergroups/{id}/radiusservers", "", "groups.readonly + radius.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/memberof", "", "groups.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/users", "", "groups.readonly + users.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/usergroups", "", "groups.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/systems", "", "groups.readonly + systems.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/systemgroups", "", "groups.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/applications", "", "groups.readonly + applications.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/policies", "", "groups.readonly + systems.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/ldapservers", "", "groups.readonly + directories.readonly"),
    ("GET", "/api/v2/systemgroups/{id}/radiusservers", "", "groups.readonly + radius.readonly"),
    ("GET", "/api/v2/systems/{id}/memberof", "", "systems.readonly + groups.readonly"),
    ("GET", "/api/v2/systems/{id}/users", "", "systems.readonly + users.readonly"),
    ("GET", "/api/v2/systems/{id}/usergroups", "", "systems.readonly + groups.readonly"),
    ("GET", "/api/v2/systems/{id}/systems", "", "systems.readonly"),
    ("GET", "/api/v2/systems/{id}/systemgroups", "", "systems.readonly + groups.readonly"),
    ("GET", "/api/v2/systems/{id}/applications", "", "systems.readonly + applications.readonly"),
    ("GET", "/api/v2/systems/{id}/policies", "", "systems.readonly"),
    ("GET", "/api/v2/systems/{id}/ldapservers", "", "systems.readonly + directories.readonly"),
    ("GET", "/api/v2/systems/{id}/radiusservers", "", "systems.readonly + radius.readonly"),
    ("GET", "/api/v2/applications/{id}/memberof", "", "applications.readonly + groups.readonly"),
    ("GET", "/api/v2/applications/{id}/users", "", "applications.readonly + users.readonly"),
    ("GET", "/api/v2/applications/{id}/usergroups", "", "applications.readonly + groups.readonly"),
    ("GET", "/api/v2/applications/{id}/systems", "", "applications.readonly + systems.readonly"),
    ("GET", "/api/v2/applications/{id}/systemgroups", "", "applications.readonly + groups.readonly"),
    ("GET", "/api/v2/applications/{id}/applications", "", "applications.readonly"),
    ("GET", "/api/v2/applications/{id}/policies", "", "applications.readonly + systems.readonly"),
    ("GET", "/api/v2/applications/{id}/ldapservers", "", "applications.readonly + directories.readonly"),
    ("GET", "/api/v2/applications/{id}/radiusservers", "", "applications.readonly + radius.readonly"),
    ("GET", "/api/v2/policies/{id}/memberof", "", "systems.readonly + groups.readonly"),
    ("GET", "/api/v2/policies/{id}/users", "", "systems.readonly + users.readonly"),
    ("GET", "/api/v2/policies/{id}/usergroups", "", "systems.readonly + groups.readonly"),
    ("GET", "/api/v2/policies/{id}/systems", "", "systems.readonly"),
    ("GET", "/api/v2/policies/{id}/systemgroups", "", "systems.readonly + groups.readonly"),
    ("GET", "/api/v2/policies/{id}/applications", "", "systems.readonly + applications.readonly"),
    ("GET", "/api/v2/policies/{id}/policies", "", "systems.readonly"),
    ("GET", "/api/v2/policies/{id}/ldapservers", "", "systems.readonly + directories.readonly"),
    ("GET", "/api/v2/policies/{id}/radiusservers", "", "systems.readonly + radius.readonly"),
    // other v2 objects
    ("GET", "/api/v2/ldapservers", "", "directories.readonly"),
    ("GET", "/api/v2/policies", "", "systems.readonly"),
    ("GET", "/api/v2/policies/{id}", "", "systems.readonly"),
    ("POST", "/api/v2/users/{id}/emails", "", "users"),
    // Directory Insights: queries are POSTs
    ("POST", "/insights/directory/v1/events", "", "directoryinsights"),
    ("POST", "/insights/directory/v1/events/count", "", "directoryinsights"),
];

#[test]
fn every_call_in_the_table_needs_what_it_says() {
    for (method, path, extra, expected) in TABLE {
        assert_eq!(
            needs(method, path, extra).as_deref(),
            Ok(*expected),
            "{method} {path} {extra}"
        );
        for scope in expected.split(" + ") {
            assert!(SCOPES.contains(&scope), "{scope} is a JumpCloud scope");
        }
    }
}

#[test]
fn unclassifiable_calls_are_refused() {
    for (method, path, extra) in [
        ("GET", "/api/../secret", ""),
        ("GET", "/api/systemusers/%2e%2e/users", ""),
        ("GET", "/api/systemusers/./x", ""),
        ("GET", "/api//systemusers", ""),
        ("GET", "/api/systemusers/a\\b", ""),
        ("GET", "/api/systemusers?x=1", ""),
        ("TRACE", "/api/systemusers", ""),
        ("GET", "/nowhere", ""),
        ("POST", "/sandbox/reset", ""),
        ("GET", "/sandbox/mail", ""),
        ("GET", "/api/v2/nothing", ""),
        ("GET", "/api/systemusers/{id}/whatever", ""),
        // an association listing names its target types, which must be known
        ("GET", "/api/v2/users/{id}/associations", ""),
        (
            "GET",
            "/api/v2/users/{id}/associations",
            "targets=everything",
        ),
        ("GET", "/api/v2/users/{id}/associations", "targets=system,"),
        // an association change names the other end's type, which must be known
        ("POST", "/api/v2/users/{id}/associations", ""),
        ("POST", "/api/v2/users/{id}/associations", "type=root"),
        ("PUT", "/api/v2/systems/{id}/associations", "type=anything"),
        // traversals and memberof only read; nothing lies below a link
        ("POST", "/api/v2/users/{id}/systems", ""),
        ("POST", "/api/v2/users/{id}/memberof", ""),
        (
            "POST",
            "/api/v2/users/{id}/associations/{id}",
            "type=system",
        ),
        ("GET", "/api/v2/users/{id}/systems/{id}", ""),
        ("GET", "/api/v2/users/{id}/members", ""),
    ] {
        assert!(
            needs(method, path, extra).is_err(),
            "{method} {path} {extra} must be refused"
        );
    }
}

#[test]
fn bodies_are_read_as_jumpcloud_reads_them() {
    let assoc = "/api/v2/users/5f1b2c3d4e5f60718293a4b5/associations";
    // Any spelling JumpCloud's decoder accepts is the spelling checked.
    assert_eq!(
        with_body("POST", assoc, r#"{"op":"add","TYPE":"system","id":"x"}"#).as_deref(),
        Ok("users + systems")
    );
    assert_eq!(
        with_body(
            "POST",
            assoc,
            r#"{"op":"add","type":"system_group","id":"x","Attributes":{"ſudo":{"enabled":true}}}"#
        )
        .as_deref(),
        Ok("users + groups + systems")
    );
    for bad in [
        r#"{"op":"add","type":"user_group","Type":"system","id":"x"}"#,
        r#"{"op":"add","type":"system","id":"x"} trailing"#,
        r#"["type","system"]"#,
        r#"{"op":"add","type":7,"id":"x"}"#,
        r#"{"op":"add","type":"System","id":"x"}"#,
        "null",
    ] {
        assert!(with_body("POST", assoc, bad).is_err(), "{bad}");
    }
    // A v1 user's own sudo flags.
    let user = "/api/systemusers/5f1b2c3d4e5f60718293a4b5";
    for (body, expected) in [
        (r#"{"Sudo":true}"#, "users + systems"),
        (r#"{"passwordless_sudo":"yes"}"#, "users + systems"),
        (r#"{"sudo":false,"passwordless_sudo":null}"#, "users"),
        (r#"{"state":"SUSPENDED"}"#, "users"),
    ] {
        assert_eq!(
            with_body("PUT", user, body).as_deref(),
            Ok(expected),
            "{body}"
        );
    }
    assert!(with_body("PUT", user, "{\"sudo\":true").is_err());
    // Membership changes that set sudo.
    assert_eq!(
        with_body(
            "POST",
            "/api/v2/usergroups/5f1b2c3d4e5f60718293a4b5/members",
            r#"{"op":"add","type":"user","id":"x","attributes":{"sudo":{"enabled":true}}}"#
        )
        .as_deref(),
        Ok("groups + users + systems")
    );
}

#[test]
fn roles_are_listed_in_declaration_order() {
    for (i, r) in Role::ALL.iter().enumerate() {
        assert_eq!(*r as usize, i, "{r}");
    }
}

#[test]
fn only_the_roles_that_manage_devices_write_systems() {
    // JumpCloud's predefined roles: Administrators and Managers grant device access;
    // Help Desk, Read Only, billing and command runners do not.
    let writers: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| r.scopes().contains("systems"))
        .collect();
    assert_eq!(
        writers,
        [
            Role::AdministratorWithBilling,
            Role::Administrator,
            Role::Manager
        ]
    );
    for r in Role::ALL {
        for s in r.scopes() {
            assert!(SCOPES.contains(s), "{r} grants unknown scope {s}");
        }
    }
}

/// The simulator's router as written (`Directory::handle`): a route added there without a
/// row in [`TABLE`] fails [`every_route_the_simulator_serves_has_a_row`].
const ROUTER_SOURCE: &str = include_str!("../directory/router.rs");

/// One path segment of a router arm: literal alternatives, or a binding.
#[derive(Debug)]
enum Seg {
    Lit(Vec<String>),
    Var(String),
}

/// `"ab"rest` → (`ab`, `rest`).
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('"')?;
    let end = s.find('"')?;
    Some((&s[..end], &s[end + 1..]))
}

/// One arm's pattern, `"GET"|"PUT",[segments]`, with whitespace removed; and the text
/// after it.
#[allow(clippy::type_complexity)]
fn parse_arm(mut s: &str) -> Option<((Vec<String>, Vec<Seg>), &str)> {
    let mut methods = Vec::new();
    loop {
        let (m, after) = quoted(s)?;
        if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        methods.push(m.to_owned());
        match after.strip_prefix('|') {
            Some(next) => s = next,
            None => {
                s = after;
                break;
            }
        }
    }
    let s = s.strip_prefix(",[")?;
    let (mut depth, mut close) = (0i32, None);
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' => depth -= 1,
            ']' if depth == 0 => {
                close = Some(i);
                break;
            }
            ']' => depth -= 1,
            _ => {}
        }
    }
    let close = close?;
    let (mut segs, mut item, mut depth) = (Vec::new(), String::new(), 0);
    for c in s[..close].chars().chain([',']) {
        match c {
            ',' if depth == 0 => {
                if !item.is_empty() {
                    segs.push(parse_seg(&item));
                }
                item.clear();
            }
            c => {
                depth += i32::from(c == '(') - i32::from(c == ')');
                item.push(c);
            }
        }
    }
    Some(((methods, segs), &s[close + 1..]))
}

fn parse_seg(item: &str) -> Seg {
    if let Some((lit, "")) = quoted(item) {
        return Seg::Lit(vec![lit.to_owned()]);
    }
    if let Some((_, alts)) = item.split_once('@') {
        let alts = alts.trim_start_matches('(').trim_end_matches(')');
        return Seg::Lit(
            alts.split('|')
                .map(|a| a.trim_matches('"').to_owned())
                .collect(),
        );
    }
    assert!(
        item.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "a router segment this test cannot read: `{item}`"
    );
    Seg::Var(item.to_owned())
}

/// An object of the collection a path names before an id, so a route that looks its
/// object up answers for the route, not "no such object".
fn sample_id(d: &crate::Directory, coll: &str) -> String {
    let objects = match coll {
        "systemusers" | "users" => &d.users,
        "systems" => &d.systems,
        "applications" => &d.applications,
        "usergroups" => &d.user_groups,
        "systemgroups" => &d.system_groups,
        "policies" => &d.policies,
        "ldapservers" => &d.ldap_servers,
        "radiusservers" => &d.radius_servers,
        _ => return "5f1b2c3d4e5f60718293a4b5".into(),
    };
    objects
        .keys()
        .next()
        .cloned()
        .expect("the default organisation has one of each")
}

/// Every concrete path of an arm: ids filled in, selectors (`coll`, `rel`) tried with
/// every word the router knows. Each as (path sent, path as the table writes it).
fn expand(
    d: &crate::Directory,
    segs: &[Seg],
    vocabulary: &BTreeSet<String>,
) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), String::new(), String::new())];
    for seg in segs {
        let mut next = Vec::new();
        for (path, table, last) in &out {
            let options: Vec<(String, String)> = match seg {
                Seg::Lit(alts) => alts.iter().map(|a| (a.clone(), a.clone())).collect(),
                Seg::Var(v) if matches!(v.as_str(), "id" | "key") => {
                    vec![(sample_id(d, last), "{id}".into())]
                }
                Seg::Var(v) if matches!(v.as_str(), "coll" | "rel") => {
                    vocabulary.iter().map(|w| (w.clone(), w.clone())).collect()
                }
                Seg::Var(v) => {
                    panic!("the router binds `{v}`: say here whether it is an id or a selector")
                }
            };
            for (sent, shown) in options {
                next.push((format!("{path}/{sent}"), format!("{table}/{shown}"), sent));
            }
        }
        out = next;
    }
    out.into_iter().map(|(p, t, _)| (p, t)).collect()
}

#[test]
fn every_route_the_simulator_serves_has_a_row() {
    use crate::{Request, seed};
    let start = ROUTER_SOURCE
        .find("pub fn handle(&mut self, req: &Request)")
        .expect("the sandbox's router is `Directory::handle`");
    let body = &ROUTER_SOURCE[start..];
    let body = &body[..body.find("\n    }\n").expect("the end of `handle`")];
    let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let mut arms = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("(\"") {
        rest = &rest[at + 1..];
        if let Some((arm, after)) = parse_arm(rest) {
            arms.push(arm);
            rest = after;
        }
    }
    assert!(arms.len() >= 30, "read {} router arms", arms.len());
    let mut vocabulary = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some((word, after)) = rest.find('"').and_then(|i| quoted(&rest[i..])) {
        if !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            vocabulary.insert(word.to_owned());
        }
        rest = after;
    }
    let directory = seed::default_directory();
    let call = |method: &str, path: &str, body: Option<serde_json::Value>| {
        directory.clone().handle(&Request {
            method: method.into(),
            path: path.into(),
            query: vec![],
            body,
        })
    };
    let routed = |r: &Result<_, crate::ApiError>| !matches!(r, Err(e) if e.status == 404 && e.message == "route not found");
    // What the simulator serves: (method, path as the table writes it, association type).
    let mut served: BTreeSet<(String, String, Option<String>)> = BTreeSet::new();
    for (methods, segs) in &arms {
        for (path, table) in expand(&directory, segs, &vocabulary) {
            for method in methods {
                if !routed(&call(method, &path, None)) {
                    continue;
                }
                served.insert((method.clone(), table.clone(), None));
                if method == "POST" && table.ends_with("/associations") {
                    for ty in &vocabulary {
                        let body =
                            json!({"op": "add", "type": ty, "id": "5f1b2c3d4e5f60718293a4b5"});
                        let r = call(method, &path, Some(body));
                        let refused = matches!(&r, Err(e) if e.status == 400 && e.message.starts_with("type:"));
                        if !refused {
                            served.insert((method.clone(), table.clone(), Some(ty.clone())));
                        }
                    }
                }
            }
        }
    }
    assert!(served.len() >= 100, "found {} routes", served.len());
    assert!(served.contains(&(
        "POST".into(),
        "/api/v2/users/{id}/associations".into(),
        Some("system".into())
    )));
    let missing: Vec<_> = served
        .iter()
        .filter(|(m, t, ty)| {
            !TABLE.iter().any(|(rm, rp, extra, _)| {
                rm == m
                    && rp == t
                    && ty.as_ref().is_none_or(|ty| {
                        extra
                            .strip_prefix("type=")
                            .map(|e| e.trim_end_matches(",sudo"))
                            == Some(ty.as_str())
                    })
            })
        })
        .collect();
    assert!(
        missing.is_empty(),
        "routes the sandbox serves without a row in the permission table: {missing:#?}"
    );
}
