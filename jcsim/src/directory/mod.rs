//! The simulated organisation: users, groups, systems, applications, policies, the graph
//! of memberships and associations between them, and the Directory Insights events every
//! change produces. Requests arrive here already authenticated; [`Directory::handle`] maps
//! one JumpCloud API request to its effect and response.
//!
//! The state and the bookkeeping every handler shares (indexes, ids, the request clock,
//! events) are here; the handlers are split by what they act on, as JumpCloud's API is:
//! - [`router`]: method and path to handler; lookups and paging.
//! - [`users`]: system users and the checks JumpCloud makes on them.
//! - [`user_actions`]: unlock, lockout, MFA, expiry, activation, SSH keys.
//! - [`groups`]: user and system groups.
//! - [`graph`]: memberships, associations and traversals.
//! - [`insights`]: Directory Insights queries.

mod graph;
mod groups;
mod insights;
mod router;
mod user_actions;
mod users;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ApiError;
use crate::query::{Api, ListQuery, Op};

/// The first unix uid/gid the simulator assigns when a user is created without one.
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
    /// Messages sent to the simulator's mail outbox (`/sandbox/mail/send`), newest last.
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
}
