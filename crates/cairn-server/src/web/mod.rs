//! HTTP plumbing shared by the API and the pages: errors, middleware, CSRF, templates.

pub mod csrf;
pub mod errors;
pub mod middleware;
pub mod multipart;
pub mod templates;
