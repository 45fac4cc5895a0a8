//! A safe, streaming view of a package zip, built from its central directory.
//!
//! Opening checks every entry against explicit [`Limits`] before a single byte is
//! decompressed: unsafe names, symlinks, encryption, too many entries, too many bytes, a
//! suspicious compression ratio, and names that collide on case-insensitive file systems.
//! Reading then streams one entry at a time and never trusts the sizes in the headers: it
//! stops as soon as the decompressed bytes exceed what the central directory declared.

mod central;
mod names;

use std::collections::HashMap;
use std::io::{Read, Seek, Write};

pub use names::PathProblem;
use zip::CompressionMethod;

const MIB: u64 = 1024 * 1024;

/// The limits an archive must stay within. Every one is checked when the archive is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The sum of the declared uncompressed sizes of all entries. Default 2 GiB.
    pub max_total_uncompressed_bytes: u64,
    /// The number of entries, folders included. Default 20 000.
    pub max_entries: usize,
    /// The largest uncompressed:compressed ratio for one entry, as `N` in `N:1`. Default 200.
    ///
    /// The rule applies only to entries whose uncompressed size is over
    /// [`Limits::ratio_check_min_bytes`]: small text files (a 50 KiB run of spaces in a CSS
    /// file) compress far better than 200:1 and are harmless, while a zip bomb has to be large
    /// to do damage.
    pub max_compression_ratio: u64,
    /// Entries at or under this uncompressed size are exempt from the ratio rule. Default 1 MiB.
    pub ratio_check_min_bytes: u64,
    /// The largest `imsmanifest.xml` that will be read. Default 8 MiB.
    pub max_manifest_bytes: u64,
    /// The longest entry path, in bytes of UTF-8. Default 1024.
    pub max_path_bytes: usize,
    /// The most path components (folders plus the file name). Default 32.
    pub max_path_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_uncompressed_bytes: 2 * 1024 * MIB,
            max_entries: 20_000,
            max_compression_ratio: 200,
            ratio_check_min_bytes: MIB,
            max_manifest_bytes: 8 * MIB,
            max_path_bytes: 1024,
            max_path_depth: 32,
        }
    }
}

/// Why an archive, or one of its entries, cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the file is not a readable zip archive ({0}); upload the package as a .zip file")]
    NotZip(String),
    #[error("the archive has at least {count} entries, more than the limit of {limit}; split the package or remove unused files")]
    TooManyEntries { count: usize, limit: usize },
    #[error(
        "the archive would unpack to {total} bytes, more than the limit of {limit} bytes; make the package smaller"
    )]
    TooLarge { total: u64, limit: u64 },
    #[error("entry `{path}` is compressed more than {limit}:1, which looks like a zip bomb; re-create the zip with ordinary compression")]
    CompressionRatio { path: String, limit: u64 },
    #[error("entry `{path}` was refused because {problem}; re-create the zip from the package folder so that every path is relative and inside it")]
    UnsafePath { path: String, problem: PathProblem },
    #[error(
        "entry `{path}` is a symbolic link, which a package may not contain; replace it with the file it points to"
    )]
    Symlink { path: String },
    #[error("entry `{path}` is encrypted; create the zip without a password")]
    Encrypted { path: String },
    #[error("entry `{path}` uses compression method {method}, which is not supported; use deflate or no compression")]
    UnsupportedCompression { path: String, method: String },
    #[error("the archive contains `{path}` twice, so it is ambiguous which copy is meant; remove one of them")]
    DuplicateEntry { path: String },
    #[error("the archive contains both `{first}` and `{second}`, which collide on case-insensitive file systems; rename one of them")]
    CaseCollision { first: String, second: String },
    #[error(
        "entry `{path}` holds more data than its declared size of {declared} bytes; the zip is damaged or crafted"
    )]
    SizeMismatch { path: String, declared: u64 },
    #[error("entry `{path}` is {size} bytes, more than the {limit} bytes allowed for it")]
    EntryTooLarge { path: String, size: u64, limit: u64 },
    #[error("the archive has no entry `{path}`")]
    NotFound { path: String },
    #[error("entry `{path}` could not be read ({detail}); the zip is damaged")]
    Corrupt { path: String, detail: String },
    #[error("writing the unpacked data failed: {0}")]
    Write(#[source] std::io::Error),
}

impl ArchiveError {
    /// The stable diagnostic code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            ArchiveError::NotZip(_) => "not_a_zip",
            ArchiveError::TooManyEntries { .. } => "too_many_entries",
            ArchiveError::TooLarge { .. } => "archive_too_large",
            ArchiveError::CompressionRatio { .. } => "compression_ratio",
            ArchiveError::UnsafePath { problem, .. } => match problem {
                PathProblem::ParentComponent => "path_traversal",
                PathProblem::Absolute => "absolute_path",
                PathProblem::DriveLetter => "drive_letter_path",
                PathProblem::ControlCharacter => "invalid_entry_name",
                PathProblem::TooLong => "path_too_long",
                PathProblem::TooDeep => "path_too_deep",
            },
            ArchiveError::Symlink { .. } => "symlink_entry",
            ArchiveError::Encrypted { .. } => "encrypted_entry",
            ArchiveError::UnsupportedCompression { .. } => "unsupported_compression",
            ArchiveError::DuplicateEntry { .. } => "duplicate_entry",
            ArchiveError::CaseCollision { .. } => "case_collision",
            ArchiveError::SizeMismatch { .. } => "entry_size_mismatch",
            ArchiveError::EntryTooLarge { .. } => "entry_too_large",
            ArchiveError::NotFound { .. } => "entry_not_found",
            ArchiveError::Corrupt { .. } => "corrupt_entry",
            ArchiveError::Write(_) => "write_failed",
        }
    }

    /// The entry the error is about, when there is one.
    pub fn entry_path(&self) -> Option<&str> {
        match self {
            ArchiveError::CompressionRatio { path, .. }
            | ArchiveError::UnsafePath { path, .. }
            | ArchiveError::Symlink { path }
            | ArchiveError::Encrypted { path }
            | ArchiveError::UnsupportedCompression { path, .. }
            | ArchiveError::DuplicateEntry { path }
            | ArchiveError::SizeMismatch { path, .. }
            | ArchiveError::EntryTooLarge { path, .. }
            | ArchiveError::NotFound { path }
            | ArchiveError::Corrupt { path, .. } => Some(path),
            ArchiveError::CaseCollision { second, .. } => Some(second),
            _ => None,
        }
    }
}

/// One entry that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeEntry {
    /// The entry's index in the zip; pass it to [`PackageArchive::copy_entry`].
    pub index: usize,
    /// Normalised: relative, `/`-separated, no trailing `/` even for folders.
    pub path: String,
    /// The size the central directory declares; reading enforces it.
    pub uncompressed_size: u64,
    pub is_dir: bool,
}

/// A zip archive whose entries have all been checked; see the module documentation.
pub struct PackageArchive<R: Read + Seek> {
    zip: zip::ZipArchive<R>,
    entries: Vec<SafeEntry>,
    by_path: HashMap<String, usize>,
    by_case_key: HashMap<String, usize>,
    limits: Limits,
}

impl<R: Read + Seek> std::fmt::Debug for PackageArchive<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageArchive").field("entries", &self.entries.len()).finish()
    }
}

impl<R: Read + Seek> PackageArchive<R> {
    /// Reads the central directory and checks every entry against `limits`.
    pub fn open(reader: R, limits: &Limits) -> Result<Self, ArchiveError> {
        let not_zip = |error: zip::result::ZipError| ArchiveError::NotZip(error.to_string());
        let zip = zip::ZipArchive::new(reader).map_err(not_zip)?;
        let (start, offset, listed) = (zip.central_directory_start(), zip.offset(), zip.len());
        let mut reader = zip.into_inner();
        let mut scan = central::scan(&mut reader, start, limits.max_entries);
        if scan.headers == 0 && listed > 0 {
            // Archives with data prepended (self-extractors) count offsets from the zip start.
            scan = central::scan(&mut reader, start.saturating_add(offset), limits.max_entries);
        }
        let count = scan.headers.max(listed);
        if count > limits.max_entries {
            return Err(ArchiveError::TooManyEntries { count, limit: limits.max_entries });
        }
        if let Some(raw) = scan.duplicate {
            return Err(ArchiveError::DuplicateEntry { path: String::from_utf8_lossy(&raw).into_owned() });
        }
        let mut zip = zip::ZipArchive::new(reader).map_err(not_zip)?;
        let mut entries = Vec::with_capacity(zip.len());
        let mut by_path = HashMap::new();
        let mut by_case_key: HashMap<String, usize> = HashMap::new();
        let mut total: u64 = 0;
        for index in 0..zip.len() {
            let file = zip.by_index_raw(index).map_err(not_zip)?;
            let name = names::decode_name(file.name_raw(), file.name());
            let normalised = names::normalise(&name, limits.max_path_bytes, limits.max_path_depth)
                .map_err(|problem| ArchiveError::UnsafePath { path: name.clone(), problem })?;
            let Some(normalised) = normalised else {
                continue;
            };
            let path = normalised.path;
            // The file-type bits of the unix mode are checked exactly: the zip library's own
            // test also matches sockets, which share bits with links.
            if file.unix_mode().is_some_and(|mode| mode & 0o170000 == 0o120000) {
                return Err(ArchiveError::Symlink { path });
            }
            if file.encrypted() {
                return Err(ArchiveError::Encrypted { path });
            }
            if !matches!(file.compression(), CompressionMethod::Stored | CompressionMethod::Deflated) {
                return Err(ArchiveError::UnsupportedCompression { path, method: file.compression().to_string() });
            }
            let size = file.size();
            total = total.saturating_add(size);
            if total > limits.max_total_uncompressed_bytes {
                return Err(ArchiveError::TooLarge { total, limit: limits.max_total_uncompressed_bytes });
            }
            if exceeds_ratio(size, file.compressed_size(), limits) {
                return Err(ArchiveError::CompressionRatio { path, limit: limits.max_compression_ratio });
            }
            let is_dir = normalised.is_dir;
            if by_path.contains_key(&path) {
                // A folder listed twice is harmless; a file listed twice is ambiguous.
                if is_dir {
                    continue;
                }
                return Err(ArchiveError::DuplicateEntry { path });
            }
            if !is_dir {
                let key = names::case_key(&path);
                if let Some(&other) = by_case_key.get(&key) {
                    let first: &SafeEntry = &entries[other];
                    return Err(ArchiveError::CaseCollision { first: first.path.clone(), second: path });
                }
                by_case_key.insert(key, entries.len());
            }
            by_path.insert(path.clone(), entries.len());
            entries.push(SafeEntry { index, path, uncompressed_size: size, is_dir });
        }
        // Folders are looked up case-insensitively too, after files, so a file keeps priority.
        for (position, entry) in entries.iter().enumerate() {
            if entry.is_dir {
                by_case_key.entry(names::case_key(&entry.path)).or_insert(position);
            }
        }
        Ok(PackageArchive { zip, entries, by_path, by_case_key, limits: limits.clone() })
    }

    /// Every entry that passed the checks, in zip order.
    pub fn entries(&self) -> &[SafeEntry] {
        &self.entries
    }

    /// Whether a normalised path names an entry exactly (case-sensitive).
    pub fn contains(&self, path: &str) -> bool {
        self.by_path.contains_key(path)
    }

    /// The entry with exactly this normalised path.
    pub fn entry(&self, path: &str) -> Option<&SafeEntry> {
        self.by_path.get(path).map(|&position| &self.entries[position])
    }

    /// The entry whose path matches ignoring case, for "did you mean" diagnostics.
    pub fn find_ignoring_case(&self, path: &str) -> Option<&SafeEntry> {
        self.by_case_key.get(&names::case_key(path)).map(|&position| &self.entries[position])
    }

    /// Streams one entry (by its zip index, [`SafeEntry::index`]) into `out`.
    ///
    /// The declared size and the compression ratio are enforced on the bytes actually
    /// produced, so a header that lies cannot make this write more than it declared.
    pub fn copy_entry(&mut self, index: usize, out: &mut dyn Write) -> Result<u64, ArchiveError> {
        // Entries are kept in zip order, so their indexes are sorted.
        let entry = self
            .entries
            .binary_search_by_key(&index, |entry| entry.index)
            .map(|position| self.entries[position].clone())
            .map_err(|_| ArchiveError::NotFound { path: format!("#{index}") })?;
        let limits = self.limits.clone();
        let corrupt = |detail: String| ArchiveError::Corrupt { path: entry.path.clone(), detail };
        let mut file = self.zip.by_index(index).map_err(|error| corrupt(error.to_string()))?;
        let compressed = file.compressed_size();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut written: u64 = 0;
        loop {
            let read = match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(corrupt(error.to_string())),
            };
            written += read as u64;
            if written > entry.uncompressed_size {
                return Err(ArchiveError::SizeMismatch { path: entry.path.clone(), declared: entry.uncompressed_size });
            }
            if exceeds_ratio(written, compressed, &limits) {
                return Err(ArchiveError::CompressionRatio {
                    path: entry.path.clone(),
                    limit: limits.max_compression_ratio,
                });
            }
            out.write_all(&buffer[..read]).map_err(ArchiveError::Write)?;
        }
        if written != entry.uncompressed_size {
            return Err(corrupt(format!("it ended after {written} of {} bytes", entry.uncompressed_size)));
        }
        Ok(written)
    }

    /// Reads a small entry (such as the manifest) into memory, refusing it over `max` bytes.
    pub fn read_small(&mut self, path: &str, max: u64) -> Result<Vec<u8>, ArchiveError> {
        let entry = self.entry(path).cloned().ok_or_else(|| ArchiveError::NotFound { path: path.to_owned() })?;
        if entry.uncompressed_size > max {
            return Err(ArchiveError::EntryTooLarge { path: entry.path, size: entry.uncompressed_size, limit: max });
        }
        // The size was checked against `max` and `copy_entry` stops at the declared size, so
        // this buffer can never grow past `max`.
        let mut bytes = Vec::with_capacity(entry.uncompressed_size as usize);
        self.copy_entry(entry.index, &mut bytes)?;
        Ok(bytes)
    }
}

/// Whether `uncompressed` bytes from `compressed` bytes break the ratio rule in [`Limits`].
fn exceeds_ratio(uncompressed: u64, compressed: u64, limits: &Limits) -> bool {
    uncompressed > limits.ratio_check_min_bytes
        && uncompressed > compressed.saturating_mul(limits.max_compression_ratio)
}

#[cfg(test)]
mod tests;
