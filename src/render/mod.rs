//! See lib.rs for the role of this module.
