//! The application: shared state, and the route tree with its middleware.

use std::sync::Arc;
use std::time::Duration;

use cairn_core::packages::ContentStore;
use cairn_core::{Db, DbOptions};
use poem::endpoint::EmbeddedFilesEndpoint;
use poem::http::StatusCode;
use poem::middleware::{CatchPanic, CookieJarManager};
use poem::web::Json;
use poem::{get, handler, Endpoint, EndpointExt, IntoResponse, Response, Route};
use rust_embed::RustEmbed;
use serde_json::json;

use crate::config::Config;
use crate::rate_limit::RateLimiter;
use crate::redis_link::RedisLink;
use crate::sessions::SessionStore;
use crate::web::errors::HttpError;
use crate::web::middleware;
use crate::web::templates::Templates;
use crate::{api, pages};

/// Everything a request handler may need, built once at start.
pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub sessions: SessionStore,
    pub limiter: RateLimiter,
    pub redis: Option<Arc<RedisLink>>,
    pub templates: Templates,
    pub content: ContentStore,
    /// Parsed manifests by package version id. A version never changes after import (a
    /// new import is a new id), so entries never go stale; the cache only saves reading
    /// and parsing the manifest on every launch and commit.
    manifests: std::sync::Mutex<std::collections::HashMap<String, Arc<cairn_scorm::Package>>>,
    /// Attempts of running SCO sessions, and the writer their commits go through
    /// (`player::live`, docs/ARCHITECTURE.md "The commit path").
    pub live: crate::player::LiveAttempts,
    /// Package versions and their item trees, for launches; immutable after import like
    /// the manifests.
    outlines: std::sync::Mutex<std::collections::HashMap<String, Arc<PackageOutline>>>,
    pub commits: cairn_core::tracking::CommitWriter,
    /// Course-progress refreshes after commits, in the background.
    pub progress: crate::progress_queue::ProgressQueue,
}

/// A package version with its organisation's items in outline order.
pub struct PackageOutline {
    pub version: cairn_core::packages::PackageVersion,
    pub items: Vec<cairn_core::packages::PackageItem>,
}

/// Most manifests (and package outlines) kept in memory; a cache is emptied when it is full.
const MANIFEST_CACHE_SIZE: usize = 256;

impl AppState {
    /// Builds the state over an open, migrated database. Redis, when configured, is
    /// connected lazily so a Redis outage at start does not stop Cairn from starting.
    pub fn new(config: Config, db: Db) -> anyhow::Result<Arc<AppState>> {
        let redis = match &config.redis_url {
            Some(url) => Some(Arc::new(RedisLink::new(url, &config.redis_prefix)?)),
            None => None,
        };
        let (sessions, limiter) = match &redis {
            Some(link) => (SessionStore::Redis(link.clone()), RateLimiter::Redis(link.clone())),
            None => (SessionStore::memory(), RateLimiter::memory()),
        };
        let content = ContentStore::new(config.content_dir());
        let commits = cairn_core::tracking::CommitWriter::start(db.clone());
        let progress = crate::progress_queue::ProgressQueue::start(db.clone());
        Ok(Arc::new(AppState {
            live: Default::default(),
            outlines: Default::default(),
            commits,
            progress,
            templates: Templates::load()?,
            config,
            db,
            sessions,
            limiter,
            redis,
            content,
            manifests: Default::default(),
        }))
    }

    /// Opens the configured database, runs migrations and builds the state.
    pub async fn open(config: Config) -> anyhow::Result<Arc<AppState>> {
        let options = DbOptions {
            max_connections: config.database_max_connections,
            sqlite_synchronous: config.sqlite_synchronous,
            ..DbOptions::default()
        };
        let db = Db::connect(&config.effective_database_url(), &options).await?;
        db.migrate().await?;
        let state = AppState::new(config, db)?;
        state.sweep_content().await?;
        let pending = state.progress.resume_pending(&state.db).await?;
        if pending > 0 {
            tracing::info!(pending, "finishing course-progress refreshes left by the last run");
        }
        Ok(state)
    }

    /// Removes files that interrupted imports left behind (see `ContentStore::sweep`).
    pub async fn sweep_content(&self) -> anyhow::Result<()> {
        let known = cairn_core::packages::all_ids(&self.db).await?;
        let removed = self.content.sweep(|id| known.contains(id))?;
        if removed > 0 {
            tracing::warn!(removed, "removed files of interrupted package imports");
        }
        Ok(())
    }

    /// The parsed manifest of a package version, from the cache or the database.
    pub async fn manifest(
        &self,
        package_id: &str,
    ) -> Result<Arc<cairn_scorm::Package>, cairn_core::packages::PackageError> {
        if let Some(found) = self.manifests.lock().unwrap_or_else(|e| e.into_inner()).get(package_id) {
            return Ok(found.clone());
        }
        let manifest = Arc::new(cairn_core::packages::manifest(&self.db, package_id).await?);
        let mut cache = self.manifests.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MANIFEST_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(package_id.to_string(), manifest.clone());
        Ok(manifest)
    }

    /// A package version and its items, read once per version.
    pub async fn package_outline(&self, package_id: &str) -> Result<Arc<PackageOutline>, HttpError> {
        if let Some(found) = self.outlines.lock().unwrap_or_else(|e| e.into_inner()).get(package_id) {
            return Ok(found.clone());
        }
        let version = cairn_core::packages::find(&self.db, package_id)
            .await?
            .ok_or_else(|| HttpError::not_found("this course has no content yet"))?;
        let items = cairn_core::packages::items(&self.db, package_id).await?;
        let outline = Arc::new(PackageOutline { version, items });
        let mut cache = self.outlines.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MANIFEST_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(package_id.to_string(), outline.clone());
        Ok(outline)
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.config.session_ttl_secs.max(60))
    }
}

#[derive(RustEmbed)]
#[folder = "../../frontend/static/"]
struct StaticFiles;

/// The whole HTTP application.
pub fn build(state: Arc<AppState>) -> impl Endpoint<Output = Response> {
    let api_service = api::service(&state);
    let spec = api_service.spec_endpoint();
    let docs = api_service.swagger_ui();
    let limit = middleware::BodyLimits { default: state.config.max_body_bytes, upload: state.config.max_package_bytes };

    let api_routes = Route::new()
        .nest("/", api_service)
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .around(api::csrf_for_cookie_writes)
        .around(move |ep, req| middleware::limit_body(ep, req, limit))
        .catch_all_error(|err: poem::Error| async move { api_error_response(err) });

    let page_state = state.clone();
    Route::new()
        .nest("/api", api_routes)
        .nest("/static", EmbeddedFilesEndpoint::<StaticFiles>::new())
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .nest(
            "/",
            pages::routes().around(move |ep, req| middleware::limit_body(ep, req, limit)).catch_all_error(
                move |err: poem::Error| {
                    let state = page_state.clone();
                    async move { pages::error_page(&state, err) }
                },
            ),
        )
        .with(CookieJarManager::new())
        .data(state)
        .around(middleware::security_headers)
        .with(CatchPanic::new().with_handler(|_| {
            HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")
                .body_response()
        }))
        .around(middleware::request_id)
}

/// Maps any error under `/api` to `{ "code", "message" }`. Errors that operations return
/// already carry that body and pass through unchanged.
fn api_error_response(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    HttpError::from_poem(&err).body_response()
}

impl HttpError {
    /// This error as a JSON response with its status (and `Retry-After` for 429).
    pub fn body_response(&self) -> Response {
        let mut response = Json(self.body()).with_status(self.status).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(poem::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// Liveness: the process is up and serving. Never touches dependencies, so a database
/// outage does not make an orchestrator restart healthy nodes.
#[handler]
fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database (and Redis, when configured) answer. 503 with the reason
/// otherwise, so a load balancer takes the node out of rotation.
#[handler]
async fn readyz(state: poem::web::Data<&Arc<AppState>>) -> Response {
    let database = match tokio::time::timeout(Duration::from_secs(3), state.db.ping()).await {
        Ok(Ok(())) => json!({ "status": "ok", "engine": state.db.engine().name() }),
        Ok(Err(e)) => {
            json!({ "status": "error", "engine": state.db.engine().name(), "error": e.to_string() })
        }
        Err(_) => {
            json!({ "status": "error", "engine": state.db.engine().name(), "error": "timed out after 3 s" })
        }
    };
    let redis = match &state.redis {
        None => json!({ "status": "not configured" }),
        Some(link) => match tokio::time::timeout(Duration::from_secs(3), link.ping()).await {
            Ok(Ok(())) => json!({ "status": "ok" }),
            Ok(Err(e)) => json!({ "status": "error", "error": e.to_string() }),
            Err(_) => json!({ "status": "error", "error": "timed out after 3 s" }),
        },
    };
    let ready = database["status"] == "ok" && redis["status"] != "error";
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    if !ready {
        tracing::warn!(%database, %redis, "not ready");
    }
    Json(json!({ "status": if ready { "ready" } else { "unavailable" }, "database": database, "redis": redis }))
        .with_status(status)
        .into_response()
}
