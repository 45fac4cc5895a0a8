//! Where package files live on disk: `<content root>/packages/<package id>/...`, with an
//! `.incoming/` folder on the same file system for imports in progress, so that the final
//! move into place is a single atomic rename.

use std::path::{Component, Path, PathBuf};

/// Errors resolving or storing content files.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("no such file in this package")]
    NotFound,
    #[error("content storage failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The content folder of one Cairn deployment.
#[derive(Debug, Clone)]
pub struct ContentStore {
    root: PathBuf,
}

impl ContentStore {
    /// A store under `root` (usually `<data_dir>/content`); folders are made on demand.
    pub fn new(root: impl Into<PathBuf>) -> ContentStore {
        ContentStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn packages_dir(&self) -> PathBuf {
        self.root.join("packages")
    }

    pub fn incoming_dir(&self) -> PathBuf {
        self.root.join(".incoming")
    }

    /// The folder of one package version.
    pub fn package_dir(&self, package_id: &str) -> PathBuf {
        self.packages_dir().join(package_id)
    }

    /// The file at `relative` inside a package, refusing anything that could leave the
    /// package folder (`..`, absolute paths, backslashes, NUL) and anything that is not a
    /// regular file (so folders are never listed). Symlinks cannot occur: the importer
    /// writes only regular files.
    pub fn resolve(&self, package_id: &str, relative: &str) -> Result<PathBuf, ContentError> {
        if !is_safe_id(package_id) || relative.is_empty() || relative.contains('\\') || relative.contains('\0') {
            return Err(ContentError::NotFound);
        }
        let relative = Path::new(relative);
        if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(ContentError::NotFound);
        }
        let path = self.package_dir(package_id).join(relative);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_file() => Ok(path),
            _ => Err(ContentError::NotFound),
        }
    }

    /// Removes what interrupted imports left behind: everything in `.incoming/`, and
    /// package folders whose id `is_known` does not recognise (the process died between
    /// the move into place and the database commit). Returns how many were removed.
    pub fn sweep(&self, is_known: impl Fn(&str) -> bool) -> Result<usize, ContentError> {
        let mut removed = 0;
        if let Ok(entries) = std::fs::read_dir(self.incoming_dir()) {
            for entry in entries.flatten() {
                remove_any(&entry.path())?;
                removed += 1;
            }
        }
        if let Ok(entries) = std::fs::read_dir(self.packages_dir()) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !is_known(&name) {
                    remove_any(&entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Package ids are UUIDs made by Cairn; anything else in a URL is refused outright.
fn is_safe_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_stays_inside_the_package() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::new(dir.path());
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        std::fs::create_dir_all(store.package_dir(id).join("shared")).unwrap();
        std::fs::write(store.package_dir(id).join("shared/page one.html"), "hi").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
        assert!(store.resolve(id, "shared/page one.html").is_ok());
        let refused = [
            "",
            "shared",
            "shared/",
            "../secret.txt",
            "shared/../../secret.txt",
            "/etc/passwd",
            "shared\\..\\..\\secret.txt",
            "./shared/page one.html",
            "missing.html",
        ];
        for path in refused {
            assert!(store.resolve(id, path).is_err(), "{path:?} must not resolve");
        }
        assert!(store.resolve("../packages", "x").is_err());
    }

    #[test]
    fn sweep_removes_leftovers_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::new(dir.path());
        std::fs::create_dir_all(store.incoming_dir().join("half-done")).unwrap();
        std::fs::create_dir_all(store.package_dir("aaaa")).unwrap();
        std::fs::create_dir_all(store.package_dir("bbbb")).unwrap();
        assert_eq!(store.sweep(|id| id == "aaaa").unwrap(), 2);
        assert!(store.package_dir("aaaa").exists());
        assert!(!store.package_dir("bbbb").exists());
        assert!(!store.incoming_dir().join("half-done").exists());
    }
}
