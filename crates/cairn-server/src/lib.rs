//! Cairn's HTTP edge: the API, the pages, sessions and the `cairn` command's building blocks.
#![forbid(unsafe_code)]
