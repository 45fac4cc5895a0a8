//! Shared helpers for Cairn's end-to-end tests.
#![forbid(unsafe_code)]
