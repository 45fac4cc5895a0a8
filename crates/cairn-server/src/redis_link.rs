//! A Redis connection that is made lazily and remade after failures, so Cairn starts and
//! keeps serving (with clear errors) while Redis is down.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Mutex;

/// Why a Redis operation failed; shown in logs and `/readyz`.
#[derive(Debug, thiserror::Error)]
#[error("Redis is unreachable or failing: {0}")]
pub struct RedisUnavailable(pub String);

impl From<redis::RedisError> for RedisUnavailable {
    fn from(e: redis::RedisError) -> Self {
        RedisUnavailable(e.to_string())
    }
}

/// A shared, self-healing handle to one Redis server.
pub struct RedisLink {
    client: redis::Client,
    prefix: String,
    manager: Mutex<Option<ConnectionManager>>,
}

impl RedisLink {
    /// Checks the URL only; the first connection happens on first use.
    pub fn new(url: &str, prefix: &str) -> Result<RedisLink, RedisUnavailable> {
        let client = redis::Client::open(url)?;
        Ok(RedisLink { client, prefix: prefix.to_string(), manager: Mutex::new(None) })
    }

    /// The key under this deployment's prefix.
    pub fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        key.push_str(&parts.join(":"));
        key
    }

    /// A connection, creating it if needed. Timeouts are short because every request that
    /// needs a session waits on this.
    pub async fn connection(&self) -> Result<ConnectionManager, RedisUnavailable> {
        let mut slot = self.manager.lock().await;
        if let Some(manager) = slot.as_ref() {
            return Ok(manager.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_secs(2))
            .set_number_of_retries(2)
            .set_max_delay(500);
        let manager = ConnectionManager::new_with_config(self.client.clone(), config).await?;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    /// Runs a command; on failure the error is logged with its cause and returned.
    pub async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, RedisUnavailable> {
        let mut conn =
            self.connection().await.inspect_err(|e| tracing::error!(error = %e, "Redis connection failed"))?;
        cmd.query_async(&mut conn).await.map_err(|e| {
            tracing::error!(error = %e, "Redis command failed");
            RedisUnavailable::from(e)
        })
    }

    /// Runs a Lua script atomically.
    pub async fn eval<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[u64],
    ) -> Result<T, RedisUnavailable> {
        let mut conn =
            self.connection().await.inspect_err(|e| tracing::error!(error = %e, "Redis connection failed"))?;
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        invocation.invoke_async(&mut conn).await.map_err(|e| {
            tracing::error!(error = %e, "Redis script failed");
            RedisUnavailable::from(e)
        })
    }

    pub async fn ping(&self) -> Result<(), RedisUnavailable> {
        let answer: String = self.run(&redis::cmd("PING")).await?;
        if answer == "PONG" {
            Ok(())
        } else {
            Err(RedisUnavailable(format!("unexpected PING answer {answer:?}")))
        }
    }
}
