//! System users: listing, search, and the create/update/delete checks JumpCloud makes
//! (field allow-list, uniqueness, username, email and password rules).

use super::*;
use crate::rules::{self, valid_email, valid_username};

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

impl Directory {
    pub(super) fn search_users(&self, req: &Request) -> Result<Reply, ApiError> {
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
                let test = |(k, v): &(String, Value)| crate::query::lookup(u, k) == Some(v);
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

    pub(super) fn check_unique(&self, user: &Value, except: Option<&str>) -> Result<(), ApiError> {
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

    pub(super) fn validate_user_fields(
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
            && rules::ssh_key_problem(pk).is_some()
        {
            return Err(ApiError::bad_request(
                "public_key: not a valid SSH public key",
            ));
        }
        if let Some(pw) = body.get("password") {
            let pw = pw.as_str().unwrap_or_default();
            let v: Vec<&str> = rules::password_violations(pw)
                .into_iter()
                .map(rules::PasswordRule::api_name)
                .collect();
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

    pub(super) fn create_user(&mut self, req: &Request) -> Result<Reply, ApiError> {
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

    pub(super) fn update_user(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
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

    pub(super) fn delete_user(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
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
}
