//! Cairn's domain: one module per area, each holding its types, its rules and its SQL.
//!
//! Only this crate writes SQL. It knows nothing of HTTP, cookies, templates or Redis.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod catalog;
pub mod cohorts;
pub mod db;
pub mod enrolments;
pub mod mail;
pub mod markdown;
pub mod organisations;
pub mod outline;
pub mod packages;
pub mod progress;
pub mod reports;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tracking;
pub mod validate;

pub use db::{Db, DbOptions, StoreError};
