//! Conditions that answer a yes/no question about the directory.

use sluice_plugin::PluginError;

use crate::api::UserRef;

/// Whether the user exists.
pub fn user_exists(who: UserRef) -> Result<bool, PluginError> {
    Ok(who.find()?.is_some())
}
