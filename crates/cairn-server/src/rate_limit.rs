//! Fixed-window rate limits (login attempts), counted in Redis when configured so that
//! every node sees the same count, or in this process otherwise.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::redis_link::{RedisLink, RedisUnavailable};

/// The outcome of counting one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Over the limit; the window ends after this long.
    Limited {
        retry_after: Duration,
    },
}

pub enum RateLimiter {
    Memory(Mutex<HashMap<String, (u32, Instant)>>),
    Redis(Arc<RedisLink>),
}

/// Increments the counter and starts its window on the first hit, atomically.
const REDIS_HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
";

impl RateLimiter {
    pub fn memory() -> RateLimiter {
        RateLimiter::Memory(Mutex::new(HashMap::new()))
    }

    /// Counts one attempt under `key` and says whether it is within `limit` per `window`.
    pub async fn hit(&self, key: &str, limit: u32, window: Duration) -> Result<Decision, RedisUnavailable> {
        let (count, remaining) = match self {
            RateLimiter::Memory(map) => {
                let mut map = map.lock().await;
                let now = Instant::now();
                if map.len() > 100_000 {
                    map.retain(|_, (_, ends)| *ends > now);
                }
                let entry = map.entry(key.to_string()).or_insert((0, now + window));
                if entry.1 <= now {
                    *entry = (0, now + window);
                }
                entry.0 = entry.0.saturating_add(1);
                (u64::from(entry.0), entry.1.saturating_duration_since(now))
            }
            RateLimiter::Redis(link) => {
                static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
                let script = SCRIPT.get_or_init(|| redis::Script::new(REDIS_HIT));
                let full_key = link.key(&["ratelimit", key]);
                let (count, ttl): (u64, i64) = link.eval(script, &[&full_key], &[window.as_secs().max(1)]).await?;
                (count, Duration::from_secs(ttl.max(1) as u64))
            }
        };
        Ok(if count > u64::from(limit) { Decision::Limited { retry_after: remaining } } else { Decision::Allowed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_limiter_counts_per_key_and_window() {
        let limiter = RateLimiter::memory();
        let window = Duration::from_millis(200);
        for _ in 0..3 {
            assert_eq!(limiter.hit("a", 3, window).await.unwrap(), Decision::Allowed);
        }
        assert!(matches!(limiter.hit("a", 3, window).await.unwrap(), Decision::Limited { .. }));
        assert_eq!(limiter.hit("b", 3, window).await.unwrap(), Decision::Allowed, "keys are independent");
        tokio::time::sleep(window + Duration::from_millis(20)).await;
        assert_eq!(limiter.hit("a", 3, window).await.unwrap(), Decision::Allowed, "a new window starts afresh");
    }
}
