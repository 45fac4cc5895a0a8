//! A second, minimal walk over the central directory, for what the zip library hides.
//!
//! The zip library keys entries by name, so when a crafted archive lists the same name twice
//! it silently keeps one of them and reports fewer entries. Which copy an extractor, a browser
//! or another LMS would pick is then anyone's guess, so the package is ambiguous; this walk
//! counts the real headers and finds the repeated name.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};

const CENTRAL_HEADER_SIGNATURE: u32 = 0x0201_4b50;
const CENTRAL_HEADER_LEN: usize = 46;

/// What the walk found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CentralScan {
    /// How many central directory headers were found (stops early past `max_headers`).
    pub headers: usize,
    /// The raw bytes of the first name that appears twice, if any.
    pub duplicate: Option<Vec<u8>>,
}

/// Walks the central directory headers starting at `start`.
///
/// The walk stops at the first bytes that are not a header, or after `max_headers` + 1
/// headers so a huge directory cannot make it run long. Read errors end the walk too: the
/// zip library has already parsed this directory, so a failure here only loses the extra
/// duplicate check, never safety.
pub fn scan<R: Read + Seek>(reader: &mut R, start: u64, max_headers: usize) -> CentralScan {
    let mut result = CentralScan::default();
    if reader.seek(SeekFrom::Start(start)).is_err() {
        return result;
    }
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut header = [0u8; CENTRAL_HEADER_LEN];
    while result.headers <= max_headers {
        if reader.read_exact(&mut header).is_err() {
            break;
        }
        let signature = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        if signature != CENTRAL_HEADER_SIGNATURE {
            break;
        }
        let field = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]) as usize;
        let (name_len, extra_len, comment_len) = (field(28), field(30), field(32));
        let mut name = vec![0u8; name_len];
        if reader.read_exact(&mut name).is_err() {
            break;
        }
        if reader.seek(SeekFrom::Current((extra_len + comment_len) as i64)).is_err() {
            break;
        }
        result.headers += 1;
        if result.duplicate.is_none() && !seen.insert(name.clone()) {
            result.duplicate = Some(name);
        }
    }
    result
}
