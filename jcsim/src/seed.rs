//! Seed files: an organisation described by names (groups, systems, applications,
//! policies, users, and the memberships and associations between them). Object ids are
//! derived from the organisation and object names, so a seed always yields the same ids.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::directory::{Directory, Edge, Node, object_id};

/// The default organisation: groups, systems and applications like the new-user provisioning example's.
pub const DEFAULT_SEED: &str = include_str!("default-seed.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    organization: String,
    admins: Vec<Map<String, Value>>,
    #[serde(default)]
    user_groups: Vec<Map<String, Value>>,
    #[serde(default)]
    system_groups: Vec<Map<String, Value>>,
    #[serde(default)]
    systems: Vec<Map<String, Value>>,
    #[serde(default)]
    applications: Vec<Map<String, Value>>,
    #[serde(default)]
    policies: Vec<Map<String, Value>>,
    #[serde(default)]
    ldap_servers: Vec<Map<String, Value>>,
    #[serde(default)]
    radius_servers: Vec<Map<String, Value>>,
    #[serde(default)]
    users: Vec<Map<String, Value>>,
    /// `["group name", "member name"]` (a user in a user group or a system in a system group).
    #[serde(default)]
    members: Vec<(String, String)>,
    /// `{"from": "type:name", "to": "type:name", "sudo"?: bool}`.
    #[serde(default)]
    associations: Vec<SeedAssociation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedAssociation {
    from: String,
    to: String,
    #[serde(default)]
    sudo: bool,
}

/// Parses a seed (JSON) into a directory, or says what is wrong with it.
pub fn parse(text: &str) -> Result<Directory, String> {
    let seed: SeedFile = serde_json::from_str(text).map_err(|e| format!("seed: {e}"))?;
    let org_id = object_id("organization", &seed.organization);
    let id = |ty: &str, name: &str| object_id(&org_id, &format!("{ty}:{name}"));
    let name_of = |m: &Map<String, Value>, field: &str| -> Result<String, String> {
        m.get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                format!(
                    "seed: an object lacks `{field}`: {}",
                    Value::from(m.clone())
                )
            })
    };
    let mut d = Directory {
        org_id: org_id.clone(),
        org_name: seed.organization.clone(),
        ..Default::default()
    };
    // name → node, for members and associations
    let mut names: BTreeMap<(String, String), Node> = BTreeMap::new();
    let put = |names: &mut BTreeMap<(String, String), Node>, ty: &str, name: &str, oid: &str| {
        names.insert(
            (ty.to_owned(), name.to_owned()),
            Node {
                ty: ty.to_owned(),
                id: oid.to_owned(),
            },
        );
    };
    for (i, a) in seed.admins.iter().enumerate() {
        let email = name_of(a, "email")?;
        let aid = id("admin", &email);
        let mut admin = json!({
            "_id": aid, "email": email, "firstname": "", "lastname": "",
            "roleName": "Administrator", "organization": org_id, "suspended": false,
            "enableMultiFactor": true, "totpEnrolled": true,
        });
        for (k, v) in a {
            admin[k] = v.clone();
        }
        if i == 0 {
            d.admin = json!({"type": "admin", "id": aid, "email": admin["email"]});
        }
        d.admins.push(admin);
    }
    for (list, ty, map) in [
        (&seed.user_groups, "user_group", &mut d.user_groups),
        (&seed.system_groups, "system_group", &mut d.system_groups),
    ] {
        for g in list {
            let name = name_of(g, "name")?;
            let gid = id(ty, &name);
            let mut group = json!({
                "id": gid, "name": name, "type": ty, "description": "", "email": "",
                "attributes": {}, "membershipMethod": "STATIC",
            });
            for (k, v) in g {
                group[k] = v.clone();
            }
            map.insert(gid.clone(), group);
            put(&mut names, ty, &name, &gid);
        }
    }
    for s in &seed.systems {
        let name = name_of(s, "displayName")?;
        let sid = id("system", &name);
        let mut system = json!({
            "_id": sid, "displayName": name, "hostname": name, "organization": org_id,
            "active": true, "agentVersion": "1.180.0", "allowSshRootLogin": false,
            "allowSshPasswordAuthentication": false, "allowMultiFactorAuthentication": true,
            "created": "2025-01-06T09:00:00.000Z", "lastContact": "2026-11-20T08:00:00.000Z",
        });
        for (k, v) in s {
            system[k] = v.clone();
        }
        d.systems.insert(sid.clone(), system);
        put(&mut names, "system", &name, &sid);
    }
    for a in &seed.applications {
        let name = name_of(a, "displayName")?;
        let aid = id("application", &name);
        let mut app = json!({
            "_id": aid, "name": name.to_lowercase().replace(' ', "-"), "displayName": name,
            "displayLabel": name, "active": true, "organization": org_id, "config": {},
            "ssoUrl": format!("https://sso.jumpcloud.com/saml2/{}", name.to_lowercase().replace(' ', "-")),
            "sso": {"type": "saml"},
        });
        for (k, v) in a {
            app[k] = v.clone();
        }
        d.applications.insert(aid.clone(), app);
        put(&mut names, "application", &name, &aid);
    }
    for (list, ty, map) in [
        (&seed.policies, "policy", &mut d.policies),
        (&seed.ldap_servers, "ldap_server", &mut d.ldap_servers),
        (&seed.radius_servers, "radius_server", &mut d.radius_servers),
    ] {
        for p in list {
            let name = name_of(p, "name")?;
            let pid = id(ty, &name);
            let mut obj = json!({"id": pid, "name": name});
            for (k, v) in p {
                obj[k] = v.clone();
            }
            map.insert(pid.clone(), obj);
            put(&mut names, ty, &name, &pid);
        }
    }
    let mut next_uid = 5000;
    for u in &seed.users {
        let username = name_of(u, "username")?;
        let uid = id("user", &username);
        next_uid += 1;
        let mut user = json!({
            "_id": uid, "username": username, "email": "", "firstname": "", "lastname": "",
            "displayname": "", "state": "ACTIVATED", "activated": true, "suspended": false,
            "account_locked": false, "account_locked_date": null, "badLoginAttempts": 0,
            "password_never_expires": false, "password_expired": false,
            "mfa": {"configured": true, "exclusion": false}, "totp_enabled": true,
            "allow_public_key": true, "public_key": "", "ssh_keys": [], "sudo": false,
            "passwordless_sudo": false, "ldap_binding_user": false, "enable_managed_uid": false,
            "unix_uid": next_uid, "unix_guid": next_uid, "department": "", "jobTitle": "",
            "company": "", "costCenter": "", "employeeType": "", "location": "",
            "description": "", "employeeIdentifier": null, "manager": null, "attributes": [],
            "addresses": [], "phoneNumbers": [], "created": "2025-01-06T09:00:00.000Z",
            "creationSource": "seed", "organization": org_id,
        });
        for (k, v) in u {
            user[k] = v.clone();
        }
        d.put_user(&uid, user);
        d.with_password.insert(uid.clone());
        put(&mut names, "user", &username, &uid);
    }
    d.next_uid = next_uid;
    let find = |names: &BTreeMap<(String, String), Node>, ty: &str, name: &str| {
        names
            .get(&(ty.to_owned(), name.to_owned()))
            .cloned()
            .ok_or_else(|| format!("seed: no {ty} named `{name}`"))
    };
    for (group, member) in &seed.members {
        let (a, b) = if let Ok(g) = find(&names, "user_group", group) {
            (g, find(&names, "user", member)?)
        } else {
            (
                find(&names, "system_group", group)?,
                find(&names, "system", member)?,
            )
        };
        d.add_edge(Edge {
            member: true,
            a,
            b,
            attributes: Value::Null,
        });
    }
    for assoc in &seed.associations {
        let node = |s: &str| -> Result<Node, String> {
            let (ty, name) = s
                .split_once(':')
                .ok_or_else(|| format!("seed: `{s}`: expected type:name"))?;
            find(&names, ty, name)
        };
        d.add_edge(Edge {
            member: false,
            a: node(&assoc.from)?,
            b: node(&assoc.to)?,
            attributes: if assoc.sudo {
                json!({"sudo": {"enabled": true, "withoutPassword": false}})
            } else {
                Value::Null
            },
        });
    }
    Ok(d)
}

/// The default organisation.
pub fn default_directory() -> Directory {
    parse(DEFAULT_SEED).expect("the built-in seed parses (checked by a unit test)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_parses_with_stable_ids() {
        let a = default_directory();
        let b = default_directory();
        assert_eq!(a.org_id, b.org_id);
        assert_eq!(
            a.user_groups.keys().collect::<Vec<_>>(),
            b.user_groups.keys().collect::<Vec<_>>()
        );
        for name in [
            "UG-All-Employees",
            "UG-Engineering",
            "UG-Developers",
            "UG-Sales",
            "UG-Managers",
            "UG-Contractors",
            "UG-Seattle-Office",
            "UG-Project-Phoenix",
        ] {
            assert!(a.user_groups.values().any(|g| g["name"] == name), "{name}");
        }
        assert!(a.systems.len() >= 10 && a.applications.len() >= 7);
    }

    #[test]
    fn bad_seeds_are_explained() {
        assert!(parse("{}").unwrap_err().contains("organization"));
        let e =
            parse(r#"{"organization":"X","admins":[],"members":[["UG-None","bob"]]}"#).unwrap_err();
        assert!(e.contains("no system_group named `UG-None`"), "{e}");
        assert!(parse(r#"{"organization":"X","admins":[],"extra":1}"#).is_err());
    }
}
