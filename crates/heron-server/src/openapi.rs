//! The OpenAPI document, generated from the handlers' annotations and the wire types.

use std::sync::OnceLock;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{api, artifacts, dashboard, export};

#[derive(OpenApi)]
#[openapi(
    info(title = "Heron API", description = "Experiment tracking: runs, history, charts, console, files. Authenticate with `Authorization: Bearer KEY` (or HTTP Basic, user `api`, password KEY). Errors are `{\"error\": {\"kind\", \"message\"}}`."),
    paths(
        api::health, api::openapi, api::viewer, api::create_user, api::create_team, api::get_entity,
        api::list_projects, api::create_project, api::get_project,
        api::list_runs, api::upsert_run, api::get_run, api::patch_run, api::delete_run,
        api::merge_config, api::merge_summary, api::heartbeat,
        api::append_history, api::history_rows, api::history_keys, api::history_series, export::export,
        api::append_system, api::system_rows, api::chart, api::project_events,
        api::append_console, api::read_console, api::list_files, api::upload_file, api::download_file,
        dashboard::create_session, dashboard::delete_session, dashboard::set_password,
        dashboard::list_views, dashboard::put_view, dashboard::delete_view, dashboard::importance, dashboard::project_keys,
        artifacts::list_artifacts, artifacts::blobs_missing, artifacts::storage_report, artifacts::get_artifact,
        artifacts::delete_artifact, artifacts::list_versions, artifacts::create_version, artifacts::get_version,
        artifacts::patch_version, artifacts::delete_version, artifacts::version_files, artifacts::version_file,
        artifacts::version_lineage, artifacts::record_use, artifacts::set_alias, artifacts::delete_alias,
        artifacts::run_artifacts, artifacts::run_lineage, artifacts::upload_part, artifacts::complete_upload,
        artifacts::download_blob, artifacts::blob_totals, artifacts::gc,
        artifacts::list_models, artifacts::create_model, artifacts::get_model, artifacts::delete_model,
        artifacts::link_model_version, artifacts::unlink_model_version, artifacts::set_model_alias,
        artifacts::delete_model_alias, artifacts::model_audit,
    ),
    components(schemas(heron_types::ErrorBody, heron_types::RunState, heron_types::Stream, heron_types::ResumeMode)),
    modifiers(&Security),
    security(("bearer" = []), ("basic" = [])),
    tags(
        (name = "server"), (name = "accounts"), (name = "projects"), (name = "runs"),
        (name = "history", description = "Metrics: ingest (batched, idempotent by `seq`), raw pages, M4 chart reads, export, live events"),
        (name = "console"), (name = "files"), (name = "views", description = "Named dashboard views of a project"),
        (name = "artifacts", description = "Versioned, content-addressed artifacts, their blobs and lineage"),
        (name = "registry", description = "Registered models, their linked versions, aliases and audit trail"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
    }
}

/// The document as JSON text, built once.
pub fn openapi_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_else(|_| "{}".to_string()))
}
