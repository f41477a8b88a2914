//! The simulated organisation: users, groups, systems, applications, policies, the graph
//! of memberships and associations between them, and the Directory Insights events every
//! change produces. Requests arrive here already authenticated; [`Directory::handle`] maps
//! one JumpCloud API request to its effect and response.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ApiError;
use super::query::{Api, ListQuery, Op};

/// The first unix uid/gid the sandbox assigns when a user is created without one.
const FIRST_UID: u64 = 5000;

/// One request, as the directory sees it (and as the change log keeps it).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

/// One response: status, JSON body (none for 204), and `x-total-count` for v2 lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub(crate) fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    fn created(body: Value) -> Reply {
        Reply {
            status: 201,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
            headers: Vec::new(),
        }
    }

    fn v2_list(page: Vec<Value>, total: usize) -> Reply {
        Reply {
            status: 200,
            body: Some(Value::Array(page)),
            headers: vec![("x-total-count".into(), total.to_string())],
        }
    }

    fn v1_list(page: Vec<Value>, total: usize) -> Reply {
        Reply::ok(json!({"results": page, "totalCount": total}))
    }
}

/// A graph edge: group membership (`group` → member) or an association (unordered).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Edge {
    pub member: bool,
    pub a: Node,
    pub b: Node,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub attributes: Value,
}

/// A graph node: JumpCloud's graph type name and the object id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
}

impl Node {
    fn new(ty: &str, id: &str) -> Node {
        Node {
            ty: ty.to_owned(),
            id: id.to_owned(),
        }
    }

    fn json(&self) -> Value {
        json!({"id": self.id, "type": self.ty})
    }
}

impl Edge {
    /// The edge's attributes as JumpCloud returns them (an object, possibly empty).
    fn attrs(&self) -> Value {
        if self.attributes.is_null() {
            json!({})
        } else {
            self.attributes.clone()
        }
    }
}

/// The whole simulated organisation; serialised as one snapshot for persistence.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Directory {
    pub org_id: String,
    pub org_name: String,
    /// The administrator the API key belongs to (`initiated_by` of events).
    pub admin: Value,
    pub admins: Vec<Value>,
    /// Change only through [`Directory::put_user`] and [`Directory::remove_user`], which
    /// keep the lookup index in step.
    pub users: BTreeMap<String, Value>,
    /// Users that have a password (the password itself is never kept).
    pub with_password: BTreeSet<String>,
    pub user_groups: BTreeMap<String, Value>,
    pub system_groups: BTreeMap<String, Value>,
    pub systems: BTreeMap<String, Value>,
    pub applications: BTreeMap<String, Value>,
    pub policies: BTreeMap<String, Value>,
    pub ldap_servers: BTreeMap<String, Value>,
    pub radius_servers: BTreeMap<String, Value>,
    /// Change only through [`Directory::add_edge`] and [`Directory::remove_edges`], which
    /// keep the adjacency index in step.
    pub edges: Vec<Edge>,
    pub events: Vec<Value>,
    /// Messages sent to the sandbox's mail outbox (`/sandbox/mail/send`), newest last.
    #[serde(default)]
    pub outbox: Vec<Value>,
    pub counter: u64,
    pub next_uid: u64,
    /// Users by the fields they are looked up and kept unique by; built on first use.
    #[serde(skip)]
    pub(super) user_index: std::sync::OnceLock<UserIndex>,
    /// Each node's edges (indices into `edges`, in order); built on first use.
    #[serde(skip)]
    pub(super) adjacency: std::sync::OnceLock<HashMap<Node, Adjacent>>,
}

/// One node's edges, all of them and by the type of the node at the other end: a walk
/// from a group to its systems must not visit each of its thousand users on the way.
#[derive(Debug, Clone, Default)]
pub(super) struct Adjacent {
    all: Vec<usize>,
    by_type: HashMap<String, Vec<usize>>,
}

impl Adjacent {
    fn push(&mut self, edge: usize, other: &Node) {
        self.all.push(edge);
        match self.by_type.get_mut(&other.ty) {
            Some(v) => v.push(edge),
            None => {
                self.by_type.insert(other.ty.clone(), vec![edge]);
            }
        }
    }
}

/// The user fields that are unique (case-insensitively) and that duplicate checks filter on.
const UNIQUE_USER_FIELDS: [&str; 3] = ["username", "email", "employeeIdentifier"];

/// Users by the lowercased text of each unique field: a superset of the users a
/// `field:$eq:text` filter or a case-insensitive uniqueness check can match, so those
/// visit a handful of users instead of the whole organisation.
#[derive(Debug, Clone, Default)]
pub(super) struct UserIndex {
    by: [HashMap<String, BTreeSet<String>>; 3],
    /// Users whose field holds a value the text key cannot stand for (a number, which a
    /// filter compares numerically; an object or list): candidates for every lookup.
    other: [BTreeSet<String>; 3],
}

impl UserIndex {
    /// The text a filter compares a value as (see `query::compare_to_text`), lowercased;
    /// `None` for values such a lookup cannot use (numbers, objects, lists, missing).
    fn key(v: Option<&Value>) -> Option<String> {
        match v? {
            Value::String(s) => Some(s.to_lowercase()),
            Value::Null => Some("null".into()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn build(users: &BTreeMap<String, Value>) -> UserIndex {
        let mut ix = UserIndex::default();
        for (id, u) in users {
            ix.insert(id, u);
        }
        ix
    }

    fn insert(&mut self, id: &str, user: &Value) {
        for (i, f) in UNIQUE_USER_FIELDS.iter().enumerate() {
            match (user.get(f), Self::key(user.get(f))) {
                (_, Some(k)) => {
                    self.by[i].entry(k).or_default().insert(id.to_owned());
                }
                (Some(_), None) => {
                    self.other[i].insert(id.to_owned());
                }
                (None, None) => {}
            }
        }
    }

    fn remove(&mut self, id: &str, user: &Value) {
        for (i, f) in UNIQUE_USER_FIELDS.iter().enumerate() {
            self.other[i].remove(id);
            if let Some(k) = Self::key(user.get(f))
                && let Some(ids) = self.by[i].get_mut(&k)
            {
                ids.remove(id);
                if ids.is_empty() {
                    self.by[i].remove(&k);
                }
            }
        }
    }
}

/// A deterministic 24-hex object id.
pub fn object_id(salt: &str, name: &str) -> String {
    let d = Sha256::digest(format!("{salt}\u{0}{name}").as_bytes());
    hex::encode(&d[..12])
}

thread_local! {
    /// The time a request is handled at, fixed for the whole request.
    static CLOCK: std::cell::Cell<Option<chrono::DateTime<chrono::Utc>>> =
        const { std::cell::Cell::new(None) };
}

/// The current time, or the time of the request being handled: a change replayed from
/// the change log sets the same timestamps it set when it was first made.
pub(super) fn now() -> chrono::DateTime<chrono::Utc> {
    CLOCK.get().unwrap_or_else(chrono::Utc::now)
}

/// Runs `f` with [`now`] fixed at `at`.
pub(super) fn at_time<T>(at: chrono::DateTime<chrono::Utc>, f: impl FnOnce() -> T) -> T {
    struct Reset(Option<chrono::DateTime<chrono::Utc>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            CLOCK.set(self.0);
        }
    }
    let _reset = Reset(CLOCK.replace(Some(at)));
    f()
}

pub(super) fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn body_object(req: &Request) -> Result<serde_json::Map<String, Value>, ApiError> {
    match &req.body {
        Some(Value::Object(m)) => Ok(m.clone()),
        None => Ok(Default::default()),
        Some(_) => Err(ApiError::bad_request(
            "the request body must be a JSON object",
        )),
    }
}

/// Fields a create or update may set on a systemuser; the rest are the server's.
const USER_FIELDS: &[&str] = &[
    "username",
    "email",
    "firstname",
    "middlename",
    "lastname",
    "displayname",
    "alternateEmail",
    "recoveryEmail",
    "password_never_expires",
    "external_password_expiration_date",
    "state",
    "suspended",
    "account_locked",
    "mfa",
    "enable_user_portal_multifactor",
    "allow_public_key",
    "public_key",
    "ssh_keys",
    "sudo",
    "passwordless_sudo",
    "ldap_binding_user",
    "samba_service_user",
    "enable_managed_uid",
    "unix_uid",
    "unix_guid",
    "department",
    "jobTitle",
    "company",
    "costCenter",
    "employeeType",
    "location",
    "description",
    "employeeIdentifier",
    "manager",
    "attributes",
    "addresses",
    "phoneNumbers",
    "relationships",
    "managedAppleId",
    "disableDeviceMaxLoginAttempts",
];

/// The sandbox's password policy (documented in docs/jumpcloud.md): at least 8 characters
/// with an upper-case letter, a lower-case letter, a digit and a special character.
pub fn password_violations(pw: &str) -> Vec<&'static str> {
    let mut v = Vec::new();
    if pw.chars().count() < 8 {
        v.push("minLength");
    }
    if !pw.chars().any(|c| c.is_uppercase()) {
        v.push("upperCase");
    }
    if !pw.chars().any(|c| c.is_lowercase()) {
        v.push("lowerCase");
    }
    if !pw.chars().any(|c| c.is_ascii_digit()) {
        v.push("number");
    }
    if !pw.chars().any(|c| !c.is_alphanumeric()) {
        v.push("specialCharacter");
    }
    v
}

fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 1024
        && u.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn valid_email(e: &str) -> bool {
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

/// Whether `key` looks like an OpenSSH public key: a known algorithm and a base64 body.
pub fn valid_ssh_key(key: &str) -> bool {
    let mut parts = key.split_whitespace();
    let (Some(alg), Some(blob)) = (parts.next(), parts.next()) else {
        return false;
    };
    matches!(
        alg,
        "ssh-rsa"
            | "ssh-ed25519"
            | "ecdsa-sha2-nistp256"
            | "ecdsa-sha2-nistp384"
            | "ecdsa-sha2-nistp521"
            | "sk-ssh-ed25519@openssh.com"
    ) && blob.len() >= 16
        && blob
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

impl Directory {
    /// Adds or replaces a user, keeping the lookup index in step.
    pub fn put_user(&mut self, id: &str, user: Value) {
        if let Some(ix) = self.user_index.get_mut() {
            if let Some(old) = self.users.get(id) {
                ix.remove(id, old);
            }
            ix.insert(id, &user);
        }
        self.users.insert(id.to_owned(), user);
    }

    /// Removes a user, keeping the lookup index in step.
    pub fn remove_user(&mut self, id: &str) -> Option<Value> {
        let old = self.users.remove(id)?;
        if let Some(ix) = self.user_index.get_mut() {
            ix.remove(id, &old);
        }
        Some(old)
    }

    /// The users whose `field` may equal `text` (case-insensitively), in id order, or
    /// `None` when `field` is not indexed.
    fn users_maybe_with(&self, field: &str, text: &str) -> Option<Vec<&Value>> {
        let i = UNIQUE_USER_FIELDS.iter().position(|f| *f == field)?;
        let ix = self
            .user_index
            .get_or_init(|| UserIndex::build(&self.users));
        let keyed = ix.by[i].get(&text.to_lowercase()).into_iter().flatten();
        let ids: BTreeSet<&String> = keyed.chain(&ix.other[i]).collect();
        Some(
            ids.into_iter()
                .filter_map(|id| self.users.get(id))
                .collect(),
        )
    }

    /// Adds an edge, keeping the adjacency index in step.
    pub fn add_edge(&mut self, edge: Edge) {
        if let Some(adj) = self.adjacency.get_mut() {
            let i = self.edges.len();
            adj.entry(edge.a.clone()).or_default().push(i, &edge.b);
            if edge.b != edge.a {
                adj.entry(edge.b.clone()).or_default().push(i, &edge.a);
            }
        }
        self.edges.push(edge);
    }

    /// Removes every edge touching `node` (the adjacency index is rebuilt on next use).
    fn remove_edges_of(&mut self, node: &Node) {
        self.edges.retain(|e| e.a != *node && e.b != *node);
        self.adjacency = Default::default();
    }

    fn adjacent(&self, node: &Node) -> Option<&Adjacent> {
        self.adjacency
            .get_or_init(|| {
                let mut adj: HashMap<Node, Adjacent> = HashMap::new();
                for (i, e) in self.edges.iter().enumerate() {
                    adj.entry(e.a.clone()).or_default().push(i, &e.b);
                    if e.b != e.a {
                        adj.entry(e.b.clone()).or_default().push(i, &e.a);
                    }
                }
                adj
            })
            .get(node)
    }

    /// The indices of `node`'s edges, in the order they were added.
    fn edges_of(&self, node: &Node) -> &[usize] {
        self.adjacent(node).map_or(&[], |a| a.all.as_slice())
    }

    /// The indices of `node`'s edges to nodes of type `ty`, in the order they were added.
    fn edges_to(&self, node: &Node, ty: &str) -> &[usize] {
        self.adjacent(node)
            .and_then(|a| a.by_type.get(ty))
            .map_or(&[], Vec::as_slice)
    }

    fn new_id(&mut self) -> String {
        self.counter += 1;
        object_id(&self.org_id, &format!("object-{}", self.counter))
    }

    fn event(&mut self, event_type: &str, resource: Value, extra: Value) {
        self.counter += 1;
        let mut e = json!({
            "id": object_id(&self.org_id, &format!("event-{}", self.counter)),
            "event_type": event_type,
            "service": "directory",
            "timestamp": rfc3339(now()),
            "organization": self.org_id,
            "provider": null,
            "resource": resource,
            "initiated_by": self.admin,
            "auth_method": "api-key",
            "client_ip": "127.0.0.1",
            "success": true,
            "@version": "1",
        });
        if let (Value::Object(m), Value::Object(x)) = (&mut e, extra) {
            m.extend(x);
        }
        self.events.push(e);
    }

    fn user_resource(u: &Value) -> Value {
        json!({"type": "user", "id": u["_id"], "username": u["username"], "email": u["email"]})
    }

    fn name_of(&self, node: &Node) -> Value {
        let (map, field) = match node.ty.as_str() {
            "user" => (&self.users, "username"),
            "user_group" => (&self.user_groups, "name"),
            "system_group" => (&self.system_groups, "name"),
            "system" => (&self.systems, "displayName"),
            "application" => (&self.applications, "displayName"),
            "policy" => (&self.policies, "name"),
            "ldap_server" => (&self.ldap_servers, "name"),
            "radius_server" => (&self.radius_servers, "name"),
            _ => return Value::Null,
        };
        map.get(&node.id)
            .map(|o| o[field].clone())
            .unwrap_or(Value::Null)
    }

    fn exists(&self, node: &Node) -> bool {
        match node.ty.as_str() {
            "user" => self.users.contains_key(&node.id),
            "user_group" => self.user_groups.contains_key(&node.id),
            "system_group" => self.system_groups.contains_key(&node.id),
            "system" => self.systems.contains_key(&node.id),
            "application" => self.applications.contains_key(&node.id),
            "policy" => self.policies.contains_key(&node.id),
            "ldap_server" => self.ldap_servers.contains_key(&node.id),
            "radius_server" => self.radius_servers.contains_key(&node.id),
            _ => false,
        }
    }

    /// Handles one API request.
    pub fn handle(&mut self, req: &Request) -> Result<Reply, ApiError> {
        let segs: Vec<&str> = req.path.trim_end_matches('/').split('/').skip(1).collect();
        let m = req.method.as_str();
        match (m, segs.as_slice()) {
            // v1 system users
            ("GET", ["api", "systemusers"]) => self.list_users(req),
            ("POST", ["api", "systemusers"]) => self.create_user(req),
            ("POST", ["api", "search", "systemusers"]) => self.search_users(req),
            ("GET", ["api", "systemusers", id]) => {
                let u = self.user(id)?;
                let q = ListQuery::parse(Api::V1, &req.query)?;
                // `fields` projects the user; a filter or `skip` that leaves nothing is a 404.
                match q.apply(vec![u.clone()]).0.into_iter().next() {
                    Some(u) => Ok(Reply::ok(u)),
                    None => Err(ApiError::not_found("user")),
                }
            }
            ("PUT", ["api", "systemusers", id]) => self.update_user(id, req),
            ("DELETE", ["api", "systemusers", id]) => self.delete_user(id, req),
            ("POST", ["api", "systemusers", id, "unlock"]) => self.unlock(id),
            ("POST", ["api", "systemusers", id, "resetmfa"]) => self.reset_mfa(id, req),
            ("POST", ["api", "systemusers", id, "expire"]) => self.expire(id),
            ("POST", ["api", "systemusers", id, "state", "activate"]) => self.activate(id, req),
            ("GET", ["api", "systemusers", id, "sshkeys"]) => {
                Ok(Reply::ok(self.user(id)?["ssh_keys"].clone()))
            }
            ("POST", ["api", "systemusers", id, "sshkeys"]) => self.add_ssh_key(id, req),
            ("DELETE", ["api", "systemusers", id, "sshkeys", key]) => self.delete_ssh_key(id, key),
            // administrators (read-only)
            ("GET", ["api", "users"]) => {
                let q = ListQuery::parse(Api::V1, &req.query)?;
                let (page, total) = q.apply(self.admins.clone());
                Ok(Reply::v1_list(page, total))
            }
            // systems and applications (v1)
            ("GET", ["api", "systems"]) => self.list_v1(&self.systems, req),
            ("GET", ["api", "systems", id]) => self
                .systems
                .get(*id)
                .cloned()
                .map(Reply::ok)
                .ok_or_else(|| ApiError::not_found("system")),
            ("GET", ["api", "applications"]) => {
                let mut r = self.list_v1(&self.applications, req)?;
                if let Some(Value::Object(b)) = &mut r.body {
                    b.insert("name".into(), json!("applications"));
                }
                Ok(r)
            }
            ("GET", ["api", "applications", id]) => self
                .applications
                .get(*id)
                .cloned()
                .map(Reply::ok)
                .ok_or_else(|| ApiError::not_found("application")),
            // v2 groups
            ("GET", ["api", "v2", kind @ ("usergroups" | "systemgroups")]) => {
                let q = ListQuery::parse(Api::V2, &req.query)?;
                let (page, total) = q.apply(self.groups(kind).values().cloned().collect());
                Ok(Reply::v2_list(page, total))
            }
            ("POST", ["api", "v2", kind @ ("usergroups" | "systemgroups")]) => {
                self.create_group(kind, req)
            }
            ("GET", ["api", "v2", kind @ ("usergroups" | "systemgroups"), id]) => self
                .groups(kind)
                .get(*id)
                .cloned()
                .map(Reply::ok)
                .ok_or_else(|| ApiError::not_found("group")),
            ("PUT" | "PATCH", ["api", "v2", kind @ ("usergroups" | "systemgroups"), id]) => {
                self.update_group(kind, id, req)
            }
            ("DELETE", ["api", "v2", kind @ ("usergroups" | "systemgroups"), id]) => {
                self.delete_group(kind, id)
            }
            (
                "GET",
                [
                    "api",
                    "v2",
                    kind @ ("usergroups" | "systemgroups"),
                    id,
                    "members",
                ],
            ) => {
                let g = self.group_node(kind, id)?;
                let conns: Vec<Value> = self
                    .edges_of(&g)
                    .iter()
                    .map(|&i| &self.edges[i])
                    .filter(|e| e.member && e.a == g)
                    .map(|e| json!({"to": e.b.json(), "attributes": e.attrs()}))
                    .collect();
                self.page_v2(conns, req)
            }
            (
                "POST",
                [
                    "api",
                    "v2",
                    kind @ ("usergroups" | "systemgroups"),
                    id,
                    "members",
                ],
            ) => {
                let g = self.group_node(kind, id)?;
                let member_ty = group_kind(kind).1;
                self.graph_op(g, req, true, &[member_ty])
            }
            (
                "GET",
                [
                    "api",
                    "v2",
                    kind @ ("usergroups" | "systemgroups"),
                    id,
                    "membership",
                ],
            ) => {
                let g = self.group_node(kind, id)?;
                let member_ty = group_kind(kind).1;
                let found = self.traverse(&g, member_ty);
                self.page_v2(found, req)
            }
            // associations of any object that has them
            ("GET", ["api", "v2", coll, id, "associations"]) => {
                let node = self.collection_node(coll, id)?;
                let targets = req
                    .query
                    .iter()
                    .filter(|(k, _)| k == "targets")
                    .flat_map(|(_, v)| v.split(',').map(str::to_owned))
                    .collect::<Vec<_>>();
                if targets.is_empty() {
                    return Err(ApiError::bad_request(
                        "targets: a target type is required (e.g. targets=system)",
                    ));
                }
                let conns: Vec<Value> = self
                    .edges_of(&node)
                    .iter()
                    .map(|&i| &self.edges[i])
                    .filter(|e| !e.member)
                    .filter_map(|e| {
                        let other = if e.a == node {
                            &e.b
                        } else if e.b == node {
                            &e.a
                        } else {
                            return None;
                        };
                        targets.contains(&other.ty).then(|| {
                            json!({"from": node.json(), "to": other.json(), "attributes": e.attrs()})
                        })
                    })
                    .collect();
                self.page_v2(conns, req)
            }
            ("POST", ["api", "v2", coll, id, "associations"]) => {
                let node = self.collection_node(coll, id)?;
                let allowed: &[&str] = match *coll {
                    "users" | "usergroups" => &[
                        "system",
                        "system_group",
                        "application",
                        "ldap_server",
                        "radius_server",
                    ],
                    "systems" | "systemgroups" => &["user", "user_group", "policy"],
                    "applications" => &["user", "user_group"],
                    "policies" => &["system", "system_group"],
                    _ => &[],
                };
                self.graph_op(node, req, false, allowed)
            }
            // v2 traversals
            ("GET", ["api", "v2", coll, id, rel]) => {
                let node = self.collection_node(coll, id)?;
                let target = match *rel {
                    "memberof" => {
                        if node.ty == "user" {
                            "user_group"
                        } else {
                            "system_group"
                        }
                    }
                    "users" => "user",
                    "usergroups" => "user_group",
                    "systems" => "system",
                    "systemgroups" => "system_group",
                    "applications" => "application",
                    "policies" => "policy",
                    "ldapservers" => "ldap_server",
                    "radiusservers" => "radius_server",
                    _ => return Err(ApiError::not_found("route")),
                };
                let found = self.traverse(&node, target);
                self.page_v2(found, req)
            }
            ("GET", ["api", "v2", "ldapservers"]) => {
                let q = ListQuery::parse(Api::V2, &req.query)?;
                let (page, total) = q.apply(self.ldap_servers.values().cloned().collect());
                Ok(Reply::v2_list(page, total))
            }
            ("GET", ["api", "v2", "policies"]) => {
                let q = ListQuery::parse(Api::V2, &req.query)?;
                let (page, total) = q.apply(self.policies.values().cloned().collect());
                Ok(Reply::v2_list(page, total))
            }
            ("GET", ["api", "v2", "policies", id]) => self
                .policies
                .get(*id)
                .cloned()
                .map(Reply::ok)
                .ok_or_else(|| ApiError::not_found("policy")),
            ("POST", ["insights", "directory", "v1", "events"]) => self.query_events(req, false),
            ("POST", ["insights", "directory", "v1", "events", "count"]) => {
                self.query_events(req, true)
            }
            _ => Err(ApiError::not_found("route")),
        }
    }

    fn user(&self, id: &str) -> Result<&Value, ApiError> {
        self.users
            .get(id)
            .ok_or_else(|| ApiError::not_found("user"))
    }

    fn groups(&self, kind: &str) -> &BTreeMap<String, Value> {
        if kind == "usergroups" {
            &self.user_groups
        } else {
            &self.system_groups
        }
    }

    fn groups_mut(&mut self, kind: &str) -> &mut BTreeMap<String, Value> {
        if kind == "usergroups" {
            &mut self.user_groups
        } else {
            &mut self.system_groups
        }
    }

    fn group_node(&self, kind: &str, id: &str) -> Result<Node, ApiError> {
        let ty = group_kind(kind).0;
        if self.groups(kind).contains_key(id) {
            Ok(Node::new(ty, id))
        } else {
            Err(ApiError::not_found("group"))
        }
    }

    fn collection_node(&self, coll: &str, id: &str) -> Result<Node, ApiError> {
        let ty = match coll {
            "users" => "user",
            "usergroups" => "user_group",
            "systemgroups" => "system_group",
            "systems" => "system",
            "applications" => "application",
            "policies" => "policy",
            _ => return Err(ApiError::not_found("route")),
        };
        let node = Node::new(ty, id);
        if self.exists(&node) {
            Ok(node)
        } else {
            Err(ApiError::not_found(ty))
        }
    }

    fn list_v1(&self, map: &BTreeMap<String, Value>, req: &Request) -> Result<Reply, ApiError> {
        let q = ListQuery::parse(Api::V1, &req.query)?;
        let (page, total) = q.apply_refs(map.values());
        Ok(Reply::v1_list(page, total))
    }

    /// `GET /api/systemusers`: an `$eq` filter on a unique field (the duplicate checks)
    /// visits only the users the index says may match, not the whole organisation.
    fn list_users(&self, req: &Request) -> Result<Reply, ApiError> {
        let q = ListQuery::parse(Api::V1, &req.query)?;
        let narrowed = q
            .filters
            .iter()
            .filter(|f| matches!(f.op, Op::Eq))
            .find_map(|f| self.users_maybe_with(&f.field, &f.value));
        let (page, total) = match narrowed {
            Some(candidates) => q.apply_refs(candidates.into_iter()),
            None => q.apply_refs(self.users.values()),
        };
        Ok(Reply::v1_list(page, total))
    }

    fn page_v2(&self, items: Vec<Value>, req: &Request) -> Result<Reply, ApiError> {
        let q = ListQuery::parse(Api::V2, &req.query)?;
        let (page, total) = q.apply(items);
        Ok(Reply::v2_list(page, total))
    }

    fn search_users(&self, req: &Request) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let terms: Vec<(String, Value)> = match body.get("filter") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .flat_map(|t| t.as_object().cloned().unwrap_or_default())
                .collect(),
            Some(Value::Object(m)) => {
                let list = m.get("and").or_else(|| m.get("or"));
                list.and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .flat_map(|t| t.as_object().cloned().unwrap_or_default())
                            .collect()
                    })
                    .unwrap_or_default()
            }
            Some(_) => return Err(ApiError::bad_request("filter: must be a list or and/or")),
        };
        let any = matches!(body.get("filter"), Some(Value::Object(m)) if m.contains_key("or"));
        let search = body
            .get("searchFilter")
            .and_then(|s| s.get("searchTerm"))
            .map(|t| match t {
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect(),
                Value::String(s) => vec![s.to_lowercase()],
                _ => Vec::new(),
            })
            .unwrap_or_default();
        let search_fields: Vec<String> = body
            .get("searchFilter")
            .and_then(|s| s.get("fields"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_else(|| {
                vec![
                    "username".into(),
                    "email".into(),
                    "firstname".into(),
                    "lastname".into(),
                ]
            });
        let hits: Vec<Value> = self
            .users
            .values()
            .filter(|u| {
                let test = |(k, v): &(String, Value)| super::query::lookup(u, k) == Some(v);
                let filtered = terms.is_empty()
                    || if any {
                        terms.iter().any(test)
                    } else {
                        terms.iter().all(test)
                    };
                let searched = search.is_empty()
                    || search.iter().any(|t| {
                        search_fields.iter().any(|f| {
                            u.get(f)
                                .and_then(Value::as_str)
                                .is_some_and(|s| s.to_lowercase().contains(t.as_str()))
                        })
                    });
                filtered && searched
            })
            .cloned()
            .collect();
        let q = ListQuery::parse(Api::V1, &req.query)?;
        let (page, total) = q.apply(hits);
        Ok(Reply::v1_list(page, total))
    }

    fn check_unique(&self, user: &Value, except: Option<&str>) -> Result<(), ApiError> {
        for field in ["username", "email", "employeeIdentifier"] {
            let Some(v) = user.get(field).and_then(Value::as_str) else {
                continue;
            };
            if v.is_empty() {
                continue;
            }
            let clash = self
                .users_maybe_with(field, v)
                .unwrap_or_default()
                .into_iter()
                .any(|u| {
                    u["_id"].as_str() != except
                        && u.get(field)
                            .and_then(Value::as_str)
                            .is_some_and(|x| x.eq_ignore_ascii_case(v))
                });
            if clash {
                return Err(ApiError::bad_request(format!(
                    "{field} already exists: a user with {field} `{v}` exists"
                )));
            }
        }
        Ok(())
    }

    fn validate_user_fields(
        &self,
        body: &serde_json::Map<String, Value>,
        req: &Request,
        on_create: bool,
    ) -> Result<(), ApiError> {
        if let Some(u) = body.get("username") {
            let u = u.as_str().unwrap_or_default();
            if !valid_username(u) {
                return Err(ApiError::bad_request(format!(
                    "username `{u}` is invalid: use letters, digits, `.`, `-` and `_`, starting with a letter or digit"
                )));
            }
        }
        if let Some(e) = body.get("email") {
            let e = e.as_str().unwrap_or_default();
            if !valid_email(e) {
                return Err(ApiError::bad_request(format!("email `{e}` is invalid")));
            }
        }
        if let Some(state) = body.get("state") {
            let allowed: &[&str] = if on_create {
                &["STAGED", "ACTIVATED", "SUSPENDED"]
            } else {
                &["ACTIVATED", "SUSPENDED"]
            };
            if !state.as_str().is_some_and(|s| allowed.contains(&s)) {
                return Err(ApiError::bad_request(format!(
                    "state: must be one of {}",
                    allowed.join(", ")
                )));
            }
            let suspended = body.get("suspended").and_then(Value::as_bool);
            if matches!(
                (state.as_str(), suspended),
                (Some("ACTIVATED"), Some(true)) | (Some("SUSPENDED"), Some(false))
            ) {
                return Err(ApiError::bad_request(
                    "state and suspended conflict: send one of them",
                ));
            }
        }
        for f in ["unix_uid", "unix_guid"] {
            if let Some(v) = body.get(f)
                && v.as_u64().is_none_or(|n| n < 1)
            {
                return Err(ApiError::bad_request(format!(
                    "{f}: must be an integer ≥ 1"
                )));
            }
        }
        if let Some(pk) = body.get("public_key").and_then(Value::as_str)
            && !pk.is_empty()
            && !valid_ssh_key(pk)
        {
            return Err(ApiError::bad_request(
                "public_key: not a valid SSH public key",
            ));
        }
        if let Some(pw) = body.get("password") {
            let pw = pw.as_str().unwrap_or_default();
            let v = password_violations(pw);
            if !v.is_empty() {
                let full = req
                    .query
                    .iter()
                    .any(|(k, v)| k == "fullValidationDetails" && v == "password");
                let mut e = ApiError::bad_request("Password validation fail");
                if full {
                    e.details = Some(json!([{
                        "fieldViolationsList": v
                            .iter()
                            .map(|d| json!({"field": "password", "description": d}))
                            .collect::<Vec<_>>(),
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                    }]));
                }
                return Err(e);
            }
        }
        if let Some(m) = body.get("manager").and_then(Value::as_str)
            && !m.is_empty()
            && !self.users.contains_key(m)
        {
            return Err(ApiError::bad_request(format!(
                "manager: no user with id `{m}`"
            )));
        }
        Ok(())
    }

    fn create_user(&mut self, req: &Request) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        for req_field in ["username", "email"] {
            if body
                .get(req_field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(ApiError::bad_request(format!("{req_field} is required")));
            }
        }
        self.validate_user_fields(&body, req, true)?;
        let id = self.new_id();
        let created = rfc3339(now());
        let has_password = body.get("password").and_then(Value::as_str).is_some();
        let mut user = json!({
            "_id": id,
            "username": "",
            "email": "",
            "firstname": "",
            "middlename": "",
            "lastname": "",
            "displayname": "",
            "alternateEmail": null,
            "state": "STAGED",
            "activated": false,
            "suspended": false,
            "account_locked": false,
            "account_locked_date": null,
            "badLoginAttempts": 0,
            "password_never_expires": false,
            "password_expired": false,
            "password_date": null,
            "password_expiration_date": null,
            "mfa": {"configured": false, "exclusion": false},
            "mfaEnrollment": {"overallStatus": "NOT_ENROLLED", "totpStatus": "NOT_ENROLLED", "pushStatus": "NOT_ENROLLED", "webAuthnStatus": "NOT_ENROLLED"},
            "totp_enabled": false,
            "enable_user_portal_multifactor": false,
            "allow_public_key": true,
            "public_key": "",
            "ssh_keys": [],
            "sudo": false,
            "passwordless_sudo": false,
            "ldap_binding_user": false,
            "samba_service_user": false,
            "enable_managed_uid": false,
            "unix_uid": null,
            "unix_guid": null,
            "department": "",
            "jobTitle": "",
            "company": "",
            "costCenter": "",
            "employeeType": "",
            "location": "",
            "description": "",
            "employeeIdentifier": null,
            "manager": null,
            "attributes": [],
            "addresses": [],
            "phoneNumbers": [],
            "relationships": [],
            "created": created,
            "creationSource": "api",
            "organization": self.org_id,
        });
        for (k, v) in &body {
            if USER_FIELDS.contains(&k.as_str()) {
                user[k] = v.clone();
            }
        }
        user["activated"] = json!(user["state"] == "ACTIVATED");
        user["suspended"] = json!(user["state"] == "SUSPENDED");
        if user["unix_uid"].is_null() {
            self.next_uid = self.next_uid.max(FIRST_UID) + 1;
            user["unix_uid"] = json!(self.next_uid);
        }
        if user["unix_guid"].is_null() {
            user["unix_guid"] = user["unix_uid"].clone();
        }
        if has_password {
            user["password_date"] = json!(created);
            if user["password_never_expires"] != json!(true) {
                user["password_expiration_date"] =
                    json!(rfc3339(now() + chrono::Duration::days(90)));
            }
        }
        self.check_unique(&user, None)?;
        if has_password {
            self.with_password.insert(id.clone());
        }
        self.put_user(&id, user.clone());
        self.event("user_create", Self::user_resource(&user), json!({}));
        Ok(Reply::ok(user))
    }

    fn update_user(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
        let before = self.user(id)?.clone();
        let body = body_object(req)?;
        self.validate_user_fields(&body, req, false)?;
        let mut user = before.clone();
        let mut changes = Vec::new();
        for (k, v) in &body {
            if USER_FIELDS.contains(&k.as_str()) && user[k] != *v {
                changes.push(json!({"field": k, "from": user[k], "to": v}));
                user[k] = v.clone();
            }
        }
        if let Some(s) = body.get("suspended").and_then(Value::as_bool)
            && body.get("state").is_none()
        {
            user["state"] = json!(if s { "SUSPENDED" } else { "ACTIVATED" });
        }
        if body.contains_key("state") || body.contains_key("suspended") {
            user["suspended"] = json!(user["state"] == "SUSPENDED");
            if user["state"] == "ACTIVATED" {
                user["activated"] = json!(true);
            }
        }
        let password = body.get("password").and_then(Value::as_str).is_some();
        if password {
            changes.push(json!({"field": "password"}));
            user["password_date"] = json!(rfc3339(now()));
            user["password_expired"] = json!(false);
        }
        self.check_unique(&user, Some(id))?;
        if password {
            self.with_password.insert(id.to_owned());
        }
        self.put_user(id, user.clone());
        let res = Self::user_resource(&user);
        if !changes.is_empty() {
            self.event("user_update", res.clone(), json!({"changes": changes}));
        }
        match (before["state"].as_str(), user["state"].as_str()) {
            (Some(a), Some("SUSPENDED")) if a != "SUSPENDED" => {
                self.event("user_suspended", res.clone(), json!({}))
            }
            (Some("SUSPENDED"), Some("ACTIVATED")) => {
                self.event("user_unsuspended", res.clone(), json!({}))
            }
            _ => {}
        }
        if password {
            self.event("user_password_change", res, json!({}));
        }
        Ok(Reply::ok(user))
    }

    fn delete_user(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
        let user = self.user(id)?.clone();
        let reports: Vec<String> = self
            .users
            .values()
            .filter(|u| u["manager"].as_str() == Some(id))
            .filter_map(|u| u["_id"].as_str().map(str::to_owned))
            .collect();
        if !reports.is_empty() {
            let cascade = req.query.iter().any(|(k, _)| k == "cascade_manager");
            if !cascade {
                return Err(ApiError::new(
                    409,
                    "CONFLICT",
                    format!(
                        "the user manages {} other user(s); pass cascade_manager=null to clear their manager",
                        reports.len()
                    ),
                ));
            }
            for r in reports {
                if let Some(u) = self.users.get_mut(&r) {
                    u["manager"] = Value::Null;
                }
            }
        }
        let node = Node::new("user", id);
        self.remove_edges_of(&node);
        self.remove_user(id);
        self.with_password.remove(id);
        self.event("user_delete", Self::user_resource(&user), json!({}));
        Ok(Reply::ok(user))
    }

    fn unlock(&mut self, id: &str) -> Result<Reply, ApiError> {
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("user"))?;
        user["account_locked"] = json!(false);
        user["account_locked_date"] = Value::Null;
        user["badLoginAttempts"] = json!(0);
        let res = Self::user_resource(user);
        self.event("user_unlocked", res, json!({}));
        Ok(Reply::ok(json!({})))
    }

    /// Locks a user out as too many failed logins would (sandbox-only control).
    pub fn lockout(&mut self, id: &str) -> Result<Reply, ApiError> {
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("user"))?;
        user["account_locked"] = json!(true);
        user["account_locked_date"] = json!(rfc3339(now()));
        user["badLoginAttempts"] = json!(10);
        let res = Self::user_resource(user);
        self.event("user_lockout", res, json!({}));
        Ok(Reply::ok(json!({})))
    }

    fn reset_mfa(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let exclusion = body
            .get("exclusion")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let days =
            match body.get("exclusionDays") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().filter(|d| *d >= 1).ok_or_else(|| {
                    ApiError::bad_request("exclusionDays: must be an integer ≥ 1")
                })?),
            };
        let until = match (body.get("exclusionUntil").and_then(Value::as_str), days) {
            (Some(u), _) => Some(
                chrono::DateTime::parse_from_rfc3339(u)
                    .map_err(|_| ApiError::bad_request("exclusionUntil: not an RFC 3339 time"))?
                    .with_timezone(&chrono::Utc),
            ),
            (None, Some(d)) => Some(now() + chrono::Duration::days(d as i64)),
            (None, None) if exclusion => {
                return Err(ApiError::bad_request(
                    "exclusion needs exclusionDays or exclusionUntil",
                ));
            }
            (None, None) => None,
        };
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("user"))?;
        let mut mfa = json!({"configured": false, "exclusion": exclusion});
        if exclusion {
            mfa["exclusionUntil"] = json!(until.map(rfc3339));
            if let Some(d) = days {
                mfa["exclusionDays"] = json!(d);
            }
        }
        let from = user["mfa"].clone();
        user["mfa"] = mfa.clone();
        user["totp_enabled"] = json!(false);
        user["mfaEnrollment"]["overallStatus"] = json!("NOT_ENROLLED");
        user["mfaEnrollment"]["totpStatus"] = json!("NOT_ENROLLED");
        let res = Self::user_resource(user);
        self.event(
            "user_update",
            res,
            json!({"changes": [{"field": "mfa", "from": from, "to": mfa}]}),
        );
        Ok(Reply::ok(json!({})))
    }

    fn expire(&mut self, id: &str) -> Result<Reply, ApiError> {
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("user"))?;
        user["password_expired"] = json!(true);
        user["password_expiration_date"] = json!(rfc3339(now()));
        let res = Self::user_resource(user);
        self.event("user_password_expired", res, json!({}));
        Ok(Reply::ok(json!({})))
    }

    fn activate(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let has_password = self.with_password.contains(id);
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("user"))?;
        if user["state"] != "STAGED" {
            return Err(ApiError::new(
                409,
                "CONFLICT",
                format!("the user is {}, not STAGED", user["state"]),
            ));
        }
        let recipient = match body.get("email") {
            None | Some(Value::Bool(true)) | Some(Value::Null) => Some(if has_password {
                user["email"].clone()
            } else if user["alternateEmail"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
            {
                user["alternateEmail"].clone()
            } else {
                user["email"].clone()
            }),
            Some(Value::Bool(false)) => None,
            Some(Value::String(addr)) if valid_email(addr) => Some(json!(addr)),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "email: true, false or an email address",
                ));
            }
        };
        user["state"] = json!("ACTIVATED");
        user["activated"] = json!(true);
        user["suspended"] = json!(false);
        let res = Self::user_resource(user);
        self.event("user_activated", res.clone(), json!({}));
        if let Some(to) = recipient {
            let mut r = res;
            r["recipient_email"] = to;
            r["email_type"] = json!(if has_password {
                "welcome"
            } else {
                "activation"
            });
            self.event("user_activation_email", r, json!({}));
        }
        Ok(Reply::ok(json!({})))
    }

    fn add_ssh_key(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
        let key = body
            .get("public_key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if name.is_empty() || key.is_empty() {
            return Err(ApiError::bad_request("name and public_key are required"));
        }
        if !valid_ssh_key(key) {
            return Err(ApiError::bad_request(
                "public_key: not a valid SSH public key",
            ));
        }
        let key_id = self.new_id();
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("user"))?;
        if user["ssh_keys"]
            .as_array()
            .is_some_and(|ks| ks.iter().any(|k| k["public_key"] == key))
        {
            return Err(ApiError::new(409, "ALREADY_EXISTS", "Already Exists"));
        }
        let entry =
            json!({"_id": key_id, "name": name, "public_key": key, "create_date": rfc3339(now())});
        if let Some(ks) = user["ssh_keys"].as_array_mut() {
            ks.push(entry.clone());
        }
        let res = Self::user_resource(user);
        self.event(
            "user_update",
            res,
            json!({"changes": [{"field": "ssh_keys", "to": name}]}),
        );
        Ok(Reply::ok(entry))
    }

    fn delete_ssh_key(&mut self, id: &str, key_id: &str) -> Result<Reply, ApiError> {
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("user"))?;
        let ks = user["ssh_keys"].as_array_mut();
        let Some(ks) = ks else {
            return Err(ApiError::not_found("ssh key"));
        };
        let before = ks.len();
        ks.retain(|k| k["_id"] != key_id);
        if ks.len() == before {
            return Err(ApiError::not_found("ssh key"));
        }
        Ok(Reply::ok(json!({})))
    }

    fn create_group(&mut self, kind: &str, req: &Request) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request("name is required"))?
            .to_owned();
        if self.groups(kind).values().any(|g| g["name"] == name) {
            return Err(ApiError::new(409, "ALREADY_EXISTS", "Already Exists"));
        }
        let id = self.new_id();
        let ty = group_kind(kind).0;
        let group = group_json(&id, ty, &name, &body);
        self.groups_mut(kind).insert(id.clone(), group.clone());
        self.event(
            "group_create",
            json!({"type": ty, "id": id, "name": name}),
            json!({}),
        );
        Ok(Reply::created(group))
    }

    fn update_group(&mut self, kind: &str, id: &str, req: &Request) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let Some(old) = self.groups(kind).get(id).cloned() else {
            return Err(ApiError::not_found("group"));
        };
        let patch = req.method == "PATCH";
        let name = match body.get("name").and_then(Value::as_str) {
            Some(n) if !n.trim().is_empty() => n.to_owned(),
            None if patch => old["name"].as_str().unwrap_or_default().to_owned(),
            _ => return Err(ApiError::bad_request("name is required")),
        };
        if self
            .groups(kind)
            .values()
            .any(|g| g["name"] == name && g["id"] != id)
        {
            return Err(ApiError::new(409, "ALREADY_EXISTS", "Already Exists"));
        }
        let mut merged = if patch {
            old.as_object().cloned().unwrap_or_default()
        } else {
            Default::default()
        };
        merged.extend(body);
        let group = group_json(id, old["type"].as_str().unwrap_or_default(), &name, &merged);
        self.groups_mut(kind).insert(id.to_owned(), group.clone());
        self.event(
            "group_update",
            json!({"type": old["type"], "id": id, "name": name}),
            json!({}),
        );
        Ok(Reply::ok(group))
    }

    fn delete_group(&mut self, kind: &str, id: &str) -> Result<Reply, ApiError> {
        let Some(group) = self.groups_mut(kind).remove(id) else {
            return Err(ApiError::not_found("group"));
        };
        let node = Node::new(group["type"].as_str().unwrap_or_default(), id);
        self.remove_edges_of(&node);
        self.event(
            "group_delete",
            json!({"type": group["type"], "id": id, "name": group["name"]}),
            json!({}),
        );
        Ok(Reply::ok(group))
    }

    /// A graph operation (`{op, type, id, attributes}`) on `node`: membership or association.
    fn graph_op(
        &mut self,
        node: Node,
        req: &Request,
        member: bool,
        allowed: &[&str],
    ) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let op = body.get("op").and_then(Value::as_str).unwrap_or_default();
        let ty = body.get("type").and_then(Value::as_str).unwrap_or_default();
        let id = body.get("id").and_then(Value::as_str).unwrap_or_default();
        if !matches!(op, "add" | "remove" | "update") {
            return Err(ApiError::bad_request("op: must be add, remove or update"));
        }
        if !allowed.contains(&ty) {
            return Err(ApiError::bad_request(format!(
                "type: must be one of {}",
                allowed.join(", ")
            )));
        }
        let other = Node::new(ty, id);
        if !self.exists(&other) {
            return Err(ApiError::not_found(ty));
        }
        let attributes = body.get("attributes").cloned().unwrap_or(Value::Null);
        let same = |e: &Edge| {
            e.member == member
                && ((e.a == node && e.b == other) || (!member && e.a == other && e.b == node))
        };
        // Every edge between the two is in both lists: search the shorter (a group's list
        // of users can be long; a user's list of groups is not).
        let (mine, theirs) = (
            self.edges_to(&node, &other.ty),
            self.edges_to(&other, &node.ty),
        );
        let existing = if mine.len() <= theirs.len() {
            mine
        } else {
            theirs
        }
        .iter()
        .copied()
        .find(|&i| same(&self.edges[i]));
        match (op, existing) {
            ("add", Some(_)) => return Err(ApiError::new(409, "ALREADY_EXISTS", "Already Exists")),
            ("add", None) => self.add_edge(Edge {
                member,
                a: node.clone(),
                b: other.clone(),
                attributes,
            }),
            ("remove", Some(i)) => {
                self.edges.remove(i);
                self.adjacency = Default::default();
            }
            ("update", Some(i)) => self.edges[i].attributes = attributes,
            (_, None) => return Err(ApiError::not_found("association")),
            _ => {}
        }
        let describe = |n: &Node, d: &Directory| json!({"type": n.ty, "object_id": n.id, "name": d.name_of(n)});
        let (from, to) = (describe(&node, self), describe(&other, self));
        self.event(
            "association_change",
            json!({"type": node.ty, "id": node.id, "name": self.name_of(&node)}),
            json!({"association": {
                "op": op,
                "action_source": "api",
                "connection": {"from": from, "to": to},
            }}),
        );
        Ok(Reply::no_content())
    }

    /// `n`'s neighbours of the given types with the edges to them, in the order the edges
    /// were added.
    fn neighbours(&self, n: &Node, types: &[&str]) -> Vec<(&Node, &Edge)> {
        let mut edges: Vec<usize> = Vec::new();
        for (k, ty) in types.iter().enumerate() {
            if !types[..k].contains(ty) {
                edges.extend_from_slice(self.edges_to(n, ty));
            }
        }
        edges.sort_unstable();
        edges
            .into_iter()
            .map(|i| {
                let e = &self.edges[i];
                (if e.a == *n { &e.b } else { &e.a }, e)
            })
            .collect()
    }

    /// Every object of type `target` reachable from `start` through at most two groups
    /// (memberships and associations), as `GraphObjectWithPaths` with compiled attributes.
    pub fn traverse(&self, start: &Node, target: &str) -> Vec<Value> {
        let mut found: BTreeMap<Node, Vec<Vec<Value>>> = BTreeMap::new();
        let mut stack: Vec<(Node, Vec<Node>, Vec<Value>)> =
            vec![(start.clone(), vec![start.clone()], Vec::new())];
        while let Some((at, seen, path)) = stack.pop() {
            // Most neighbours of a group are its members, neither the target nor a way on:
            // only the target's type and groups are visited.
            for (next, edge) in self.neighbours(&at, &[target, "user_group", "system_group"]) {
                let is_target = next.ty == target;
                let expands =
                    matches!(next.ty.as_str(), "user_group" | "system_group") && path.len() < 2;
                if !(is_target || expands) || seen.contains(next) {
                    continue;
                }
                let hop = json!({"from": at.json(), "to": next.json(), "attributes": edge.attrs()});
                let mut p = path.clone();
                p.push(hop);
                if is_target {
                    found.entry(next.clone()).or_default().push(p);
                } else {
                    let mut s = seen.clone();
                    s.push(next.clone());
                    stack.push((next.clone(), s, p));
                }
            }
        }
        found
            .into_iter()
            .map(|(node, paths)| {
                let sudo = paths.iter().flatten().fold((false, false), |acc, hop| {
                    let s = &hop["attributes"]["sudo"];
                    (
                        acc.0 || s["enabled"] == json!(true),
                        acc.1 || s["withoutPassword"] == json!(true),
                    )
                });
                let mut v = json!({"id": node.id, "type": node.ty, "paths": paths});
                if sudo.0 {
                    v["compiledAttributes"] =
                        json!({"sudo": {"enabled": true, "withoutPassword": sudo.1}});
                }
                v
            })
            .collect()
    }

    fn query_events(&self, req: &Request, count: bool) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let services: Vec<&str> = body
            .get("service")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if services.is_empty() {
            return Err(ApiError::bad_request(
                "service is required: a list such as [\"directory\"] or [\"all\"]",
            ));
        }
        const KNOWN: &[&str] = &[
            "all",
            "directory",
            "sso",
            "radius",
            "ldap",
            "systems",
            "mdm",
            "alert",
            "notifications",
            "password_manager",
            "object_storage",
            "access_management",
            "reports",
            "software",
            "asset_management",
        ];
        if let Some(bad) = services.iter().find(|s| !KNOWN.contains(s)) {
            return Err(ApiError::bad_request(format!(
                "service `{bad}` is not valid; valid services: {}",
                KNOWN.join(", ")
            )));
        }
        let parse_time = |field: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
            match body.get(field).and_then(Value::as_str) {
                None => Ok(None),
                Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                    .map(|t| Some(t.with_timezone(&chrono::Utc)))
                    .map_err(|_| {
                        ApiError::bad_request(format!("{field}: `{t}` is not an RFC 3339 time"))
                    }),
            }
        };
        let start = parse_time("start_time")?
            .ok_or_else(|| ApiError::bad_request("start_time is required"))?;
        if start > now() {
            return Err(ApiError::bad_request("start_time is in the future"));
        }
        let end = parse_time("end_time")?;
        if end.is_some_and(|e| e <= start) {
            return Err(ApiError::bad_request("end_time must be after start_time"));
        }
        let limit = body
            .get("limit")
            .and_then(Value::as_u64)
            .filter(|l| (1..=10_000).contains(l))
            .unwrap_or(1000) as usize;
        let desc = body
            .get("sort")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("DESC"));
        let after: Option<(i64, String)> = match body.get("search_after") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) if a.len() == 2 => {
                let ms = a[0]
                    .as_i64()
                    .or_else(|| a[0].as_str().and_then(|s| s.parse().ok()));
                match (ms, a[1].as_str()) {
                    (Some(ms), Some(id)) => Some((ms, id.to_owned())),
                    _ => return Err(ApiError::bad_request("search_after: [millis, id]")),
                }
            }
            Some(_) => return Err(ApiError::bad_request("search_after: [millis, id]")),
        };
        let term = body.get("search_term").cloned();
        let key = |e: &Value| -> (i64, String) {
            let ms = e["timestamp"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis())
                .unwrap_or_default();
            (ms, e["id"].as_str().unwrap_or_default().to_owned())
        };
        let mut hits: Vec<(i64, String, &Value)> = self
            .events
            .iter()
            .filter(|e| {
                services.contains(&"all")
                    || e["service"].as_str().is_some_and(|s| services.contains(&s))
            })
            .map(|e| {
                let (ms, id) = key(e);
                (ms, id, e)
            })
            .filter(|(ms, _, _)| {
                *ms >= start.timestamp_millis()
                    && end.is_none_or(|end| *ms < end.timestamp_millis())
            })
            .filter(|(_, _, e)| term.as_ref().is_none_or(|t| search_matches(e, t)))
            .collect();
        // Events are appended in time order; the index breaks ties the way ids would.
        if desc {
            hits.reverse();
        }
        if let Some((ms, id)) = &after {
            let pos = hits.iter().position(|(m, i, _)| m == ms && i == id);
            match pos {
                Some(p) => {
                    hits.drain(..=p);
                }
                None => hits.retain(|(m, _, _)| if desc { m < ms } else { m > ms }),
            }
        }
        if count {
            return Ok(Reply::ok(json!({"count": hits.len()})));
        }
        hits.truncate(limit);
        let last = hits
            .last()
            .map(|(ms, id, _)| json!([ms, id]))
            .or_else(|| after.as_ref().map(|(ms, id)| json!([ms, id])))
            .unwrap_or_else(|| json!([]));
        let n = hits.len();
        let events: Vec<Value> = hits.into_iter().map(|(_, _, e)| e.clone()).collect();
        Ok(Reply {
            status: 200,
            body: Some(Value::Array(events)),
            headers: vec![
                ("x-result-count".into(), n.to_string()),
                ("x-limit".into(), limit.to_string()),
                ("x-sort".into(), if desc { "DESC" } else { "ASC" }.into()),
                ("x-search_after".into(), last.to_string()),
            ],
        })
    }
}

/// Directory Insights `search_term` semantics: `{and: [...]}`/`{or: [...]}`/`{not: ...}` of
/// `{field: value}` or `{field: [values]}`, values compared in lower case.
fn search_matches(event: &Value, term: &Value) -> bool {
    let Some(obj) = term.as_object() else {
        return false;
    };
    obj.iter().all(|(k, v)| match k.as_str() {
        "and" => v
            .as_array()
            .is_some_and(|ts| ts.iter().all(|t| search_matches(event, t))),
        "or" => v
            .as_array()
            .is_some_and(|ts| ts.iter().any(|t| search_matches(event, t))),
        "not" => !search_matches(event, v),
        field => {
            let actual = super::query::lookup(event, field);
            let text = |x: &Value| match x {
                Value::String(s) => s.to_lowercase(),
                other => other.to_string().to_lowercase(),
            };
            let Some(actual) = actual.map(text) else {
                return false;
            };
            match v {
                Value::Array(options) => options.iter().any(|o| text(o) == actual),
                one => text(one) == actual,
            }
        }
    })
}

/// For a group collection (`usergroups` or `systemgroups`): the group's graph type and
/// the type of its members.
fn group_kind(collection: &str) -> (&'static str, &'static str) {
    if collection == "usergroups" {
        ("user_group", "user")
    } else {
        ("system_group", "system")
    }
}

fn group_json(id: &str, ty: &str, name: &str, body: &serde_json::Map<String, Value>) -> Value {
    json!({
        "id": id,
        "name": name,
        "type": ty,
        "description": body.get("description").cloned().unwrap_or(json!("")),
        "email": body.get("email").cloned().unwrap_or(json!("")),
        "attributes": body.get("attributes").cloned().unwrap_or(json!({})),
        "membershipMethod": body.get("membershipMethod").cloned().unwrap_or(json!("STATIC")),
    })
}
