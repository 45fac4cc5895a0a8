//! Configuration: defaults in code, then an optional `cairn.toml`, then `CAIRN_*` variables.
//!
//! Every setting is listed once in [`Config`] and documented in the README's table. Secrets
//! (database passwords, the admin password) are never printed; [`Config::describe`] redacts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use cairn_core::db::{redact_url, SqliteSync};
use serde::Deserialize;

/// Errors while reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Env { name: &'static str, value: String, reason: String },
}

/// All settings of a Cairn node.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the server listens.
    pub bind: SocketAddr,
    /// Folder for the SQLite file and course content.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; defaults to `sqlite://<data_dir>/cairn.db`.
    pub database_url: Option<String>,
    /// Maximum connections in the database pool.
    pub database_max_connections: u32,
    /// SQLite `synchronous` setting: `normal` or `full`.
    pub sqlite_synchronous: SqliteSync,
    /// `redis://...`; when set, sessions and rate limits are shared through Redis.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments can share one Redis.
    pub redis_prefix: String,
    /// The address users reach Cairn at; `https://` turns on `Secure` cookies.
    pub public_url: String,
    /// Trust `X-Forwarded-For` for the client address (only behind your own proxy).
    pub trust_proxy: bool,
    /// Idle lifetime of a login session, in seconds.
    pub session_ttl_secs: u64,
    /// Login attempts allowed per e-mail and client address in one window.
    pub login_max_attempts: u32,
    /// Login attempts allowed per client address (any e-mail) in one window.
    pub login_max_attempts_per_ip: u32,
    /// Length of the login rate-limit window, in seconds.
    pub login_window_secs: u64,
    /// Largest request body accepted by the API and forms, in bytes.
    pub max_body_bytes: u64,
    /// Largest package upload accepted, in bytes.
    pub max_package_bytes: u64,
    /// Largest total uncompressed size of a package, in bytes.
    pub package_max_uncompressed_bytes: u64,
    /// Most entries (files and folders) in a package.
    pub package_max_entries: usize,
    /// Highest compression ratio (N for N:1) of one package entry over 1 MiB (zip bombs).
    pub package_max_ratio: u64,
    /// Password for the first admin account; generated and printed when absent.
    pub admin_password: Option<String>,
    /// E-mail of the first admin account.
    pub admin_email: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: 16,
            sqlite_synchronous: SqliteSync::Normal,
            redis_url: None,
            redis_prefix: "cairn:".into(),
            public_url: "http://127.0.0.1:8080".into(),
            trust_proxy: false,
            session_ttl_secs: 8 * 3600,
            login_max_attempts: 10,
            login_max_attempts_per_ip: 50,
            login_window_secs: 300,
            max_body_bytes: 1024 * 1024,
            max_package_bytes: 1024 * 1024 * 1024,
            package_max_uncompressed_bytes: 2 * 1024 * 1024 * 1024,
            package_max_entries: 20_000,
            package_max_ratio: 200,
            admin_password: None,
            admin_email: "admin@cairn.local".into(),
        }
    }
}

impl Config {
    /// Loads defaults, then `path` (or `./cairn.toml` when it exists), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let explicit = path.map(Path::to_path_buf).or_else(|| std::env::var_os("CAIRN_CONFIG").map(PathBuf::from));
        let file = explicit.clone().or_else(|| Some(PathBuf::from("cairn.toml")).filter(|p| p.exists()));
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                toml::from_str(&text).map_err(|e| ConfigError::Toml { path, message: e.to_string() })?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Overrides settings from `CAIRN_*` variables read through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(name: &'static str, value: String) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.trim().parse().map_err(|e: T::Err| ConfigError::Env { name, value, reason: e.to_string() })
        }
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        if let Some(v) = get("CAIRN_BIND") {
            self.bind = parse("CAIRN_BIND", v)?;
        }
        if let Some(v) = get("CAIRN_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("CAIRN_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = get("CAIRN_DATABASE_MAX_CONNECTIONS") {
            self.database_max_connections = parse("CAIRN_DATABASE_MAX_CONNECTIONS", v)?;
        }
        if let Some(v) = get("CAIRN_SQLITE_SYNCHRONOUS") {
            self.sqlite_synchronous = match v.trim().to_lowercase().as_str() {
                "normal" => SqliteSync::Normal,
                "full" => SqliteSync::Full,
                _ => {
                    return Err(ConfigError::Env {
                        name: "CAIRN_SQLITE_SYNCHRONOUS",
                        value: v,
                        reason: "use normal or full".into(),
                    })
                }
            };
        }
        if let Some(v) = get("CAIRN_REDIS_URL") {
            self.redis_url = Some(v);
        }
        if let Some(v) = get("CAIRN_REDIS_PREFIX") {
            self.redis_prefix = v;
        }
        if let Some(v) = get("CAIRN_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = get("CAIRN_TRUST_PROXY") {
            self.trust_proxy = parse("CAIRN_TRUST_PROXY", v)?;
        }
        if let Some(v) = get("CAIRN_SESSION_TTL_SECS") {
            self.session_ttl_secs = parse("CAIRN_SESSION_TTL_SECS", v)?;
        }
        if let Some(v) = get("CAIRN_LOGIN_MAX_ATTEMPTS") {
            self.login_max_attempts = parse("CAIRN_LOGIN_MAX_ATTEMPTS", v)?;
        }
        if let Some(v) = get("CAIRN_LOGIN_MAX_ATTEMPTS_PER_IP") {
            self.login_max_attempts_per_ip = parse("CAIRN_LOGIN_MAX_ATTEMPTS_PER_IP", v)?;
        }
        if let Some(v) = get("CAIRN_LOGIN_WINDOW_SECS") {
            self.login_window_secs = parse("CAIRN_LOGIN_WINDOW_SECS", v)?;
        }
        if let Some(v) = get("CAIRN_MAX_BODY_BYTES") {
            self.max_body_bytes = parse("CAIRN_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = get("CAIRN_MAX_PACKAGE_BYTES") {
            self.max_package_bytes = parse("CAIRN_MAX_PACKAGE_BYTES", v)?;
        }
        if let Some(v) = get("CAIRN_PACKAGE_MAX_UNCOMPRESSED_BYTES") {
            self.package_max_uncompressed_bytes = parse("CAIRN_PACKAGE_MAX_UNCOMPRESSED_BYTES", v)?;
        }
        if let Some(v) = get("CAIRN_PACKAGE_MAX_ENTRIES") {
            self.package_max_entries = parse("CAIRN_PACKAGE_MAX_ENTRIES", v)?;
        }
        if let Some(v) = get("CAIRN_PACKAGE_MAX_RATIO") {
            self.package_max_ratio = parse("CAIRN_PACKAGE_MAX_RATIO", v)?;
        }
        if let Some(v) = get("CAIRN_ADMIN_PASSWORD") {
            self.admin_password = Some(v);
        }
        if let Some(v) = get("CAIRN_ADMIN_EMAIL") {
            self.admin_email = v;
        }
        Ok(())
    }

    /// The database URL in effect: the configured one or SQLite under the data folder.
    pub fn effective_database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("cairn.db").display()))
    }

    /// The package reader's limits from these settings (the rest keep their defaults).
    pub fn package_limits(&self) -> cairn_scorm::Limits {
        cairn_scorm::Limits {
            max_total_uncompressed_bytes: self.package_max_uncompressed_bytes,
            max_entries: self.package_max_entries,
            max_compression_ratio: self.package_max_ratio,
            ..cairn_scorm::Limits::default()
        }
    }

    /// Where package files live.
    pub fn content_dir(&self) -> PathBuf {
        self.data_dir.join("content")
    }

    /// Whether cookies must carry `Secure`: only when users reach Cairn over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// A one-line summary for the start-up log, with secrets removed.
    pub fn describe(&self) -> String {
        format!(
            "bind={} data_dir={} database={} redis={}",
            self.bind,
            self.data_dir.display(),
            redact_url(&self.effective_database_url()),
            self.redis_url.as_deref().map(redact_url).unwrap_or_else(|| "off (in-process sessions)".into())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serve_a_newcomer() {
        let c = Config::default();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.effective_database_url(), "sqlite://./data/cairn.db");
        assert!(!c.secure_cookies());
    }

    #[test]
    fn environment_overrides_file_values() {
        let mut c: Config = toml::from_str("bind = \"0.0.0.0:9000\"\nredis_url = \"redis://file\"\n").unwrap();
        let env = [
            ("CAIRN_REDIS_URL", "redis://env"),
            ("CAIRN_DATA_DIR", "/srv/cairn"),
            ("CAIRN_PUBLIC_URL", "https://learn.example.org"),
        ];
        c.apply_env(|name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())).unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(c.redis_url.as_deref(), Some("redis://env"));
        assert_eq!(c.effective_database_url(), "sqlite:///srv/cairn/cairn.db");
        assert!(c.secure_cookies());
    }

    #[test]
    fn bad_values_are_named() {
        let mut c = Config::default();
        let err = c.apply_env(|name| (name == "CAIRN_BIND").then(|| "not-an-address".to_string())).unwrap_err();
        assert!(err.to_string().contains("CAIRN_BIND"), "{err}");
        assert!(toml::from_str::<Config>("unknown_setting = 1").is_err(), "typos in cairn.toml are refused");
    }

    #[test]
    fn description_hides_passwords() {
        let c = Config { database_url: Some("postgres://cairn:hunter2@db/cairn".into()), ..Config::default() };
        assert!(!c.describe().contains("hunter2"));
    }
}
