//! The one table of error codes: every code the host emits, and every code the bundled
//! catalogue plugins emit, with its stable number, HTTP status, exit code, whether a retry
//! can help, and what to do about it.
//!
//! The table is [`table.rs`](table), declared once through [`codes!`]; `docs/errors.md` is
//! generated from it ([`docs`]). Error types return a [`Code`] from `code()`; the API takes
//! its status from [`Code::status`], the command line its exit code from [`Code::exit`].
//! This module imports nothing else of the crate, so every layer may use it.
//!
//! Plugins other than the catalogue define codes of their own, checked by form only
//! (`^[A-Z][A-Z0-9_]{0,63}$`); those are passed on as they are, and have no number.

pub mod docs;
mod table;
#[cfg(test)]
mod tests;

pub use table::Code;

/// Who emits a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emitter {
    /// Only the host (the runtime, its API and command line).
    Host,
    /// Only the bundled catalogue plugins (a plugin defines it; the host knows it).
    Catalogue,
    /// Both: the host emits it, and catalogue plugins pass it on or emit it themselves.
    Both,
}

impl Emitter {
    pub const fn as_str(self) -> &'static str {
        match self {
            Emitter::Host => "host",
            Emitter::Catalogue => "catalogue",
            Emitter::Both => "host, catalogue",
        }
    }
}

/// Whether retrying what failed can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The same call fails the same way until something is changed.
    No,
    /// The failure is temporary: a later retry can succeed.
    Yes,
    /// It depends on the cause; the error's own `retryable` says.
    Depends,
}

impl Retry {
    pub const fn as_str(self) -> &'static str {
        match self {
            Retry::No => "no",
            Retry::Yes => "yes",
            Retry::Depends => "depends",
        }
    }
}

/// Declares [`Code`] from the table: one line of metadata and one paragraph per code.
///
/// `Variant = "STRING", "ERR-AREA-NNN", emitter, http STATUS|-, exit N, retry R, "text"`.
macro_rules! codes {
    ($(
        $variant:ident = $name:literal, $number:literal, $emitter:ident,
        http $http:tt, exit $exit:literal, retry $retry:ident,
        $text:literal;
    )*) => {
        /// A stable error code: see the table in `code/table.rs` and `docs/errors.md`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $text] $variant,)*
        }

        impl Code {
            /// Every code, in the table's order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The symbolic code, e.g. `GROUP_NOT_FOUND`: what errors carry.
            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The stable number, e.g. `ERR-GRP-001`.
            pub const fn number(self) -> &'static str {
                match self { $(Code::$variant => $number,)* }
            }

            /// Who emits it.
            pub const fn emitter(self) -> $crate::code::Emitter {
                match self { $(Code::$variant => $crate::code::Emitter::$emitter,)* }
            }

            /// The HTTP status of the API's answer with this code; `None` for a code that
            /// only ends a step (it is then in a run record, not an HTTP answer).
            pub const fn status(self) -> Option<u16> {
                match self { $(Code::$variant => codes!(@http $http),)* }
            }

            /// The exit code of a command this error ends: 1 the operation failed, 2 the
            /// command's own input or usage was wrong.
            pub const fn exit(self) -> u8 {
                match self { $(Code::$variant => $exit,)* }
            }

            /// Whether a retry can succeed.
            pub const fn retry(self) -> $crate::code::Retry {
                match self { $(Code::$variant => $crate::code::Retry::$retry,)* }
            }

            /// What it means and what to do.
            pub const fn explanation(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }
        }
    };
    (@http -) => { None };
    (@http $status:literal) => { Some($status) };
}
pub(crate) use codes;

impl Code {
    /// The code whose string is `s`.
    pub fn from_name(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Code> for String {
    fn from(c: Code) -> String {
        c.as_str().to_owned()
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Code> for str {
    fn eq(&self, other: &Code) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Code> for String {
    fn eq(&self, other: &Code) -> bool {
        self == other.as_str()
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
