//! Cairn's HTTP edge and the building blocks of the `cairn` command: the JSON API, the
//! server-rendered pages, sessions (Redis or in-process), login rate limits, first-start
//! set-up. Only this crate knows HTTP, JSON shapes, cookies, templates and Redis.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod content;
pub mod imports;
pub mod pages;
pub mod player;
pub mod progress_queue;
pub mod rate_limit;
pub mod redis_link;
pub mod sessions;
pub mod web;

pub use app::{build, AppState};
pub use config::Config;
