//! Conditions that answer a yes/no question about the directory.

use sluice_plugin::PluginError;

use crate::api::{Transport, UserRef};

/// Whether the user exists.
pub fn user_exists(jc: &dyn Transport, who: UserRef) -> Result<bool, PluginError> {
    Ok(who.find(jc)?.is_some())
}
