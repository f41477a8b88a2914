//! What is done to one user's account rather than its fields: unlock and lockout, MFA
//! reset, password expiry, activation and SSH keys.

use super::*;
use crate::rules::{self, valid_email};

impl Directory {
    pub(super) fn unlock(&mut self, id: &str) -> Result<Reply, ApiError> {
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

    /// Locks a user out as too many failed logins would (simulator-only control).
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

    pub(super) fn reset_mfa(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
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

    pub(super) fn expire(&mut self, id: &str) -> Result<Reply, ApiError> {
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

    pub(super) fn activate(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
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

    pub(super) fn add_ssh_key(&mut self, id: &str, req: &Request) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
        let key = body
            .get("public_key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if name.is_empty() || key.is_empty() {
            return Err(ApiError::bad_request("name and public_key are required"));
        }
        if rules::ssh_key_problem(key).is_some() {
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

    pub(super) fn delete_ssh_key(&mut self, id: &str, key_id: &str) -> Result<Reply, ApiError> {
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
}
