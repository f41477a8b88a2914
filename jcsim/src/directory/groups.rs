//! User and system groups: create, update and delete, with the event each change adds.

use super::*;

impl Directory {
    pub(super) fn create_group(&mut self, kind: &str, req: &Request) -> Result<Reply, ApiError> {
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

    pub(super) fn update_group(
        &mut self,
        kind: &str,
        id: &str,
        req: &Request,
    ) -> Result<Reply, ApiError> {
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

    pub(super) fn delete_group(&mut self, kind: &str, id: &str) -> Result<Reply, ApiError> {
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
}

/// For a group collection (`usergroups` or `systemgroups`): the group's graph type and
/// the type of its members.
pub(super) fn group_kind(collection: &str) -> (&'static str, &'static str) {
    if collection == "usergroups" {
        ("user_group", "user")
    } else {
        ("system_group", "system")
    }
}

pub(super) fn group_json(
    id: &str,
    ty: &str,
    name: &str,
    body: &serde_json::Map<String, Value>,
) -> Value {
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
