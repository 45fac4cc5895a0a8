//! Login sessions: a random id in an HttpOnly cookie, the session itself in Redis (shared
//! by every node) or in this process when Redis is not configured.
//!
//! Stores key sessions by a SHA-256 digest of the cookie value, so a Redis dump or a memory
//! dump does not hand out live cookies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::redis_link::{RedisLink, RedisUnavailable};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "cairn_session";

/// What a session remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    pub user_id: String,
    /// Unix seconds of the login, for audit and absolute expiry later.
    pub created_at: i64,
}

/// Where sessions live.
pub enum SessionStore {
    Memory(Mutex<HashMap<String, (SessionData, Instant)>>),
    Redis(Arc<RedisLink>),
}

impl SessionStore {
    pub fn memory() -> SessionStore {
        SessionStore::Memory(Mutex::new(HashMap::new()))
    }

    /// Starts a session and returns the cookie value.
    pub async fn create(&self, data: SessionData, ttl: Duration) -> Result<String, RedisUnavailable> {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let key = digest(&token);
        match self {
            SessionStore::Memory(map) => {
                let mut map = map.lock().await;
                // Expired sessions are swept on writes so the map cannot grow without bound.
                let now = Instant::now();
                map.retain(|_, (_, expires)| *expires > now);
                map.insert(key, (data, now + ttl));
            }
            SessionStore::Redis(link) => {
                let json = serde_json::to_string(&data).map_err(|e| RedisUnavailable(e.to_string()))?;
                let () = link
                    .run(
                        redis::cmd("SET")
                            .arg(link.key(&["session", &key]))
                            .arg(json)
                            .arg("EX")
                            .arg(ttl.as_secs().max(1)),
                    )
                    .await?;
            }
        }
        Ok(token)
    }

    /// The session for a cookie value, extending its idle lifetime; `None` when unknown or expired.
    pub async fn get(&self, token: &str, ttl: Duration) -> Result<Option<SessionData>, RedisUnavailable> {
        if token.len() > 128 {
            return Ok(None);
        }
        let key = digest(token);
        match self {
            SessionStore::Memory(map) => {
                let mut map = map.lock().await;
                let now = Instant::now();
                match map.get_mut(&key) {
                    Some((data, expires)) if *expires > now => {
                        *expires = now + ttl;
                        Ok(Some(data.clone()))
                    }
                    Some(_) => {
                        map.remove(&key);
                        Ok(None)
                    }
                    None => Ok(None),
                }
            }
            SessionStore::Redis(link) => {
                let json: Option<String> = link
                    .run(redis::cmd("GETEX").arg(link.key(&["session", &key])).arg("EX").arg(ttl.as_secs().max(1)))
                    .await?;
                Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
            }
        }
    }

    /// Ends a session (logout). Unknown tokens are ignored.
    pub async fn delete(&self, token: &str) -> Result<(), RedisUnavailable> {
        let key = digest(token);
        match self {
            SessionStore::Memory(map) => {
                map.lock().await.remove(&key);
            }
            SessionStore::Redis(link) => {
                let _: i64 = link.run(redis::cmd("DEL").arg(link.key(&["session", &key]))).await?;
            }
        }
        Ok(())
    }
}

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
