//! Log lines into the step's record. Bounded by the host: keep them short and never log a
//! secret or a password. In a native build with the `testing` feature, [`crate::testing`]'s
//! host keeps them.

#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
use crate::bindings::platform::sluice::plugin::log::{Level, write};

#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
use crate::testing::Level;
#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
fn write(level: Level, message: &str) {
    crate::testing::serve::log(level, message);
}

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
