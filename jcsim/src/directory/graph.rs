//! The graph: memberships and associations made and removed (`{op, type, id, attributes}`),
//! and the traversals that answer `/api/v2/{collection}/{id}/{target}` (direct and through
//! groups, with sudo compiled along the way).

use super::*;

impl Directory {
    /// A graph operation (`{op, type, id, attributes}`) on `node`: membership or association.
    pub(super) fn graph_op(
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
    pub(super) fn neighbours(&self, n: &Node, types: &[&str]) -> Vec<(&Node, &Edge)> {
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
}
