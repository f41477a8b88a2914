//! Log lines into the step's record. Bounded by the host: keep them short and never log a
//! secret or a password.

use crate::bindings::platform::sluice::plugin::log::{Level, write};

pub fn trace(message: &str) {
    write(Level::Trace, message);
}
pub fn debug(message: &str) {
    write(Level::Debug, message);
}
pub fn info(message: &str) {
    write(Level::Info, message);
}
pub fn warn(message: &str) {
    write(Level::Warn, message);
}
pub fn error(message: &str) {
    write(Level::Error, message);
}
