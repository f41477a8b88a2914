//! The router: which handler a method and path reach (`Directory::handle`, the simulator's
//! whole API surface in one `match`, which the scope table in `crate::scopes` is checked
//! against), and the lookups and paging the handlers share.

use super::groups::group_kind;
use super::*;

impl Directory {
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

    pub(super) fn user(&self, id: &str) -> Result<&Value, ApiError> {
        self.users
            .get(id)
            .ok_or_else(|| ApiError::not_found("user"))
    }

    pub(super) fn groups(&self, kind: &str) -> &BTreeMap<String, Value> {
        if kind == "usergroups" {
            &self.user_groups
        } else {
            &self.system_groups
        }
    }

    pub(super) fn groups_mut(&mut self, kind: &str) -> &mut BTreeMap<String, Value> {
        if kind == "usergroups" {
            &mut self.user_groups
        } else {
            &mut self.system_groups
        }
    }

    pub(super) fn group_node(&self, kind: &str, id: &str) -> Result<Node, ApiError> {
        let ty = group_kind(kind).0;
        if self.groups(kind).contains_key(id) {
            Ok(Node::new(ty, id))
        } else {
            Err(ApiError::not_found("group"))
        }
    }

    pub(super) fn collection_node(&self, coll: &str, id: &str) -> Result<Node, ApiError> {
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

    pub(super) fn list_v1(
        &self,
        map: &BTreeMap<String, Value>,
        req: &Request,
    ) -> Result<Reply, ApiError> {
        let q = ListQuery::parse(Api::V1, &req.query)?;
        let (page, total) = q.apply_refs(map.values());
        Ok(Reply::v1_list(page, total))
    }

    /// `GET /api/systemusers`: an `$eq` filter on a unique field (the duplicate checks)
    /// visits only the users the index says may match, not the whole organisation.
    pub(super) fn list_users(&self, req: &Request) -> Result<Reply, ApiError> {
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

    pub(super) fn page_v2(&self, items: Vec<Value>, req: &Request) -> Result<Reply, ApiError> {
        let q = ListQuery::parse(Api::V2, &req.query)?;
        let (page, total) = q.apply(items);
        Ok(Reply::v2_list(page, total))
    }
}
