//! Artifacts on SQLite: blob records (reference counts, who holds them, uploads in
//! progress), artifacts and their versions, manifests, aliases, uses (lineage), the storage
//! report, and the model registry with its audit trail.

use std::collections::{HashMap, HashSet, VecDeque};

use heron_core::artifacts::{
    LATEST, check_alias, check_artifact_name, check_manifest, check_type, manifest_digest, version_index, version_name,
};
use heron_core::{ArtifactKey, Error, LineageRoot, Result, RunRef, UploadKey, User, names, time};
use heron_types::{
    Artifact, ArtifactStorage, ArtifactVersion, AuditEntry, BlobRef, BlobTotals, Lineage, LineageEdge, LineageNode,
    ManifestEntry, ModelCreate, ModelVersion, RegisteredModel, RunArtifacts, StorageReport, VersionCreate,
    VersionPatch, artifact_limits,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::Value;

use crate::ResultExt;
use crate::accounts::{entity_id, project_id};
use crate::runs::run_pk;

// ------------------------------------------------------------------------------------------
// blobs

/// Whether `user` may use blob `sha256` without sending it: see `Store::blobs_held`.
const HELD_SQL: &str =
    "SELECT b.size, (?2 OR EXISTS (SELECT 1 FROM blob_holders h WHERE h.sha256 = b.sha256 AND h.user_id = ?3)
       OR EXISTS (SELECT 1 FROM artifact_files f
                  JOIN artifact_versions v ON v.id = f.version_id
                  JOIN artifacts a ON a.id = v.artifact_id
                  JOIN projects p ON p.id = a.project_id
                  JOIN memberships m ON m.entity_id = p.entity_id AND m.user_id = ?3
                  WHERE f.sha256 = b.sha256))
     FROM blobs b WHERE b.sha256 = ?1";

fn held(conn: &Connection, caller: &User, sha256: &str) -> Result<Option<u64>> {
    let row: Option<(i64, bool)> = conn
        .prepare_cached(HELD_SQL)
        .db()?
        .query_row(params![sha256, caller.admin, caller.id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    Ok(row.and_then(|(size, held)| held.then_some(size as u64)))
}

pub(crate) fn blobs_held(conn: &Connection, caller: &User, blobs: &[BlobRef]) -> Result<Vec<Option<u64>>> {
    blobs.iter().map(|blob| held(conn, caller, &blob.sha256)).collect()
}

pub(crate) fn blob_size(conn: &Connection, sha256: &str) -> Result<Option<u64>> {
    let size: Option<i64> =
        conn.query_row("SELECT size FROM blobs WHERE sha256 = ?1", [sha256], |row| row.get(0)).optional().db()?;
    Ok(size.map(|s| s as u64))
}

pub(crate) fn record_blob(conn: &mut Connection, sha256: &str, size: u64, user_id: i64, now: f64) -> Result<()> {
    let tx = conn.transaction().db()?;
    let stored: Option<i64> =
        tx.query_row("SELECT size FROM blobs WHERE sha256 = ?1", [sha256], |row| row.get(0)).optional().db()?;
    match stored {
        Some(stored) if stored as u64 != size => {
            return Err(Error::internal(format!("blob {sha256} is stored with size {stored}, not {size}")));
        }
        Some(_) => {
            // Sent again: its grace time starts over, so a version about to name it keeps it.
            tx.execute("UPDATE blobs SET stored_at = ?2 WHERE sha256 = ?1 AND refs <= 0", params![sha256, now]).db()?;
        }
        None => {
            tx.execute(
                "INSERT INTO blobs (sha256, size, refs, stored_at) VALUES (?1, ?2, 0, ?3)",
                params![sha256, size as i64, now],
            )
            .db()?;
        }
    }
    tx.execute("INSERT OR IGNORE INTO blob_holders (sha256, user_id) VALUES (?1, ?2)", params![sha256, user_id])
        .db()?;
    tx.commit().db()
}

pub(crate) fn upload_parts(conn: &Connection, upload: &UploadKey) -> Result<Vec<u64>> {
    let mut stmt = conn
        .prepare_cached("SELECT part FROM upload_parts WHERE sha256 = ?1 AND size = ?2 AND user_id = ?3 ORDER BY part")
        .db()?;
    let parts =
        stmt.query_map(params![upload.sha256, upload.size as i64, upload.user], |row| row.get::<_, i64>(0)).db()?;
    parts.map(|p| p.map(|p| p as u64).db()).collect()
}

pub(crate) fn record_upload_part(conn: &Connection, upload: &UploadKey, part: u64, now: f64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO upload_parts (sha256, size, user_id, part, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![upload.sha256, upload.size as i64, upload.user, part as i64, now],
    )
    .db()?;
    Ok(())
}

pub(crate) fn clear_upload(conn: &Connection, upload: &UploadKey) -> Result<()> {
    conn.execute(
        "DELETE FROM upload_parts WHERE sha256 = ?1 AND size = ?2 AND user_id = ?3",
        params![upload.sha256, upload.size as i64, upload.user],
    )
    .db()?;
    Ok(())
}

pub(crate) fn collect_blobs(conn: &mut Connection, before: f64) -> Result<Vec<(String, u64)>> {
    let tx = conn.transaction().db()?;
    let doomed = {
        let mut stmt = tx.prepare("SELECT sha256, size FROM blobs WHERE refs <= 0 AND stored_at < ?1").db()?;
        let rows = stmt.query_map([before], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64))).db()?;
        rows.collect::<std::result::Result<Vec<_>, _>>().db()?
    };
    {
        let mut delete = tx.prepare("DELETE FROM blobs WHERE sha256 = ?1 AND refs <= 0").db()?;
        for (sha, _) in &doomed {
            delete.execute([sha]).db()?;
        }
    }
    tx.commit().db()?;
    Ok(doomed)
}

pub(crate) fn abandon_uploads(conn: &mut Connection, before: f64) -> Result<Vec<(UploadKey, u64)>> {
    let tx = conn.transaction().db()?;
    let parts = {
        let mut stmt = tx
            .prepare(
                "SELECT sha256, size, user_id, part FROM upload_parts u WHERE (SELECT MAX(at) FROM upload_parts x
                 WHERE x.sha256 = u.sha256 AND x.size = u.size AND x.user_id = u.user_id) < ?1",
            )
            .db()?;
        let rows = stmt
            .query_map([before], |row| {
                let upload = UploadKey { sha256: row.get(0)?, size: row.get::<_, i64>(1)? as u64, user: row.get(2)? };
                Ok((upload, row.get::<_, i64>(3)? as u64))
            })
            .db()?;
        rows.collect::<std::result::Result<Vec<_>, _>>().db()?
    };
    {
        let mut delete = tx
            .prepare("DELETE FROM upload_parts WHERE sha256 = ?1 AND size = ?2 AND user_id = ?3 AND part = ?4")
            .db()?;
        for (upload, part) in &parts {
            delete.execute(params![upload.sha256, upload.size as i64, upload.user, *part as i64]).db()?;
        }
    }
    tx.commit().db()?;
    Ok(parts)
}

pub(crate) fn blob_totals(conn: &Connection) -> Result<BlobTotals> {
    conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(size), 0), COUNT(*) FILTER (WHERE refs <= 0),
                (SELECT COUNT(*) FROM (SELECT DISTINCT sha256, size, user_id FROM upload_parts))
         FROM blobs",
        [],
        |row| {
            Ok(BlobTotals {
                blobs: row.get::<_, i64>(0)? as u64,
                bytes: row.get::<_, i64>(1)? as u64,
                unreferenced: row.get::<_, i64>(2)? as u64,
                uploads_in_progress: row.get::<_, i64>(3)? as u64,
            })
        },
    )
    .db()
}

pub(crate) fn server_secret(conn: &Connection, name: &str) -> Result<String> {
    let fresh = heron_core::keys::random_hex(32);
    conn.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)", params![name, fresh]).db()?;
    conn.query_row("SELECT value FROM secrets WHERE name = ?1", [name], |row| row.get(0)).db()
}

// ------------------------------------------------------------------------------------------
// artifacts and versions

struct ArtifactRow {
    id: i64,
    entity: String,
    project: String,
    name: String,
}

fn artifact_row(conn: &Connection, entity: &str, project: &str, name: &str) -> Result<ArtifactRow> {
    let project_pk = project_id(conn, entity, project, false)?;
    conn.prepare_cached("SELECT id FROM artifacts WHERE project_id = ?1 AND name = ?2")
        .db()?
        .query_row(params![project_pk, name], |row| {
            Ok(ArtifactRow {
                id: row.get(0)?,
                entity: entity.to_string(),
                project: project.to_string(),
                name: name.to_string(),
            })
        })
        .optional()
        .db()?
        .ok_or_else(|| Error::not_found(format!("artifact {entity}/{project}/{name} not found")))
}

/// The row id of version `version` (`vN`, `latest` or an alias) of an artifact.
fn version_pk(conn: &Connection, artifact: &ArtifactRow, version: &str) -> Result<i64> {
    let found: Option<i64> = match version_index(version) {
        Some(index) => conn
            .prepare_cached("SELECT id FROM artifact_versions WHERE artifact_id = ?1 AND idx = ?2")
            .db()?
            .query_row(params![artifact.id, index as i64], |row| row.get(0))
            .optional()
            .db()?,
        None => conn
            .prepare_cached("SELECT version_id FROM artifact_aliases WHERE artifact_id = ?1 AND alias = ?2")
            .db()?
            .query_row(params![artifact.id, version], |row| row.get(0))
            .optional()
            .db()?,
    };
    found.ok_or_else(|| {
        Error::not_found(format!(
            "artifact {}/{}/{} has no version {version:?}",
            artifact.entity, artifact.project, artifact.name
        ))
    })
}

const VERSION_SELECT: &str = "SELECT v.id, e.name, p.name, a.name, a.type, v.idx, v.digest, v.description, v.metadata, v.size,
        v.file_count, v.created_at, v.created_by, r.run_id, v.expires_at,
        (SELECT group_concat(alias, char(31)) FROM (SELECT alias FROM artifact_aliases x WHERE x.version_id = v.id ORDER BY alias = 'latest' DESC, alias))
     FROM artifact_versions v
     JOIN artifacts a ON a.id = v.artifact_id
     JOIN projects p ON p.id = a.project_id
     JOIN entities e ON e.id = p.entity_id
     LEFT JOIN runs r ON r.id = v.run_pk";

fn version_from_row(row: &rusqlite::Row) -> rusqlite::Result<ArtifactVersion> {
    let index = row.get::<_, i64>(5)? as u64;
    let metadata: String = row.get(8)?;
    let aliases: Option<String> = row.get(15)?;
    Ok(ArtifactVersion {
        entity: row.get(1)?,
        project: row.get(2)?,
        name: row.get(3)?,
        kind: row.get(4)?,
        version: version_name(index),
        index,
        digest: row.get(6)?,
        description: row.get(7)?,
        metadata: serde_json::from_str(&metadata).unwrap_or(Value::Object(Default::default())),
        aliases: aliases.map(|a| a.split('\u{1f}').map(str::to_string).collect()).unwrap_or_default(),
        size: row.get::<_, i64>(9)? as u64,
        file_count: row.get::<_, i64>(10)? as u64,
        created_at: time::rfc3339(row.get(11)?),
        created_by: row.get(12)?,
        run: row.get(13)?,
        expires_at: row.get::<_, Option<f64>>(14)?.map(time::rfc3339),
        created: true,
    })
}

fn version_by_pk(conn: &Connection, pk: i64) -> Result<ArtifactVersion> {
    conn.prepare_cached(&format!("{VERSION_SELECT} WHERE v.id = ?1"))
        .db()?
        .query_row([pk], version_from_row)
        .optional()
        .db()?
        .ok_or_else(|| Error::not_found("artifact version not found"))
}

fn check_metadata(metadata: &Value) -> Result<String> {
    if !metadata.is_object() {
        return Err(Error::invalid("artifact metadata must be a JSON object"));
    }
    names::check_document("artifact metadata", metadata)?;
    let text = serde_json::to_string(metadata).map_err(|e| Error::invalid(format!("artifact metadata: {e}")))?;
    if text.len() > artifact_limits::MAX_METADATA_BYTES {
        return Err(Error::too_large(format!(
            "artifact metadata is {} bytes; the limit is {} bytes",
            text.len(),
            artifact_limits::MAX_METADATA_BYTES
        )));
    }
    Ok(text)
}

fn check_description(description: &Option<String>) -> Result<()> {
    if let Some(d) = description
        && d.len() > 64 * 1024
    {
        return Err(Error::invalid("description is longer than 65536 bytes"));
    }
    Ok(())
}

/// Points `alias` of the artifact at version `version_id`, wherever it pointed before.
fn put_alias(tx: &Connection, artifact_id: i64, alias: &str, version_id: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO artifact_aliases (artifact_id, alias, version_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (artifact_id, alias) DO UPDATE SET version_id = excluded.version_id",
        params![artifact_id, alias, version_id],
    )
    .db()?;
    Ok(())
}

/// Moves `latest` to the artifact's highest remaining version (or removes it when none is left).
fn reset_latest(tx: &Connection, artifact_id: i64) -> Result<()> {
    let newest: Option<i64> = tx
        .query_row(
            "SELECT id FROM artifact_versions WHERE artifact_id = ?1 ORDER BY idx DESC LIMIT 1",
            [artifact_id],
            |row| row.get(0),
        )
        .optional()
        .db()?;
    match newest {
        Some(pk) => put_alias(tx, artifact_id, LATEST, pk),
        None => {
            tx.execute(
                "DELETE FROM artifact_aliases WHERE artifact_id = ?1 AND alias = ?2",
                params![artifact_id, LATEST],
            )
            .db()?;
            Ok(())
        }
    }
}

pub(crate) fn create_version(
    conn: &mut Connection,
    entity: &str,
    project: &str,
    name: &str,
    create: &VersionCreate,
    caller: &User,
    now: f64,
) -> Result<ArtifactVersion> {
    check_artifact_name("artifact name", name)?;
    check_type(&create.kind)?;
    check_manifest(&create.files)?;
    check_description(&create.description)?;
    let metadata = check_metadata(create.metadata.as_ref().unwrap_or(&Value::Object(Default::default())))?;
    if create.aliases.len() > artifact_limits::MAX_ALIASES {
        return Err(Error::invalid(format!("at most {} aliases per version", artifact_limits::MAX_ALIASES)));
    }
    for alias in &create.aliases {
        check_alias(alias)?;
    }
    let tx = conn.transaction().db()?;
    let project_pk = project_id(&tx, entity, project, true)?;
    let producer = match &create.run {
        Some(run) => Some(run_pk(&tx, &RunRef::new(entity, project, run.as_str()))?),
        None => None,
    };

    // Every stored file's blob must be stored, with its size, and held by the caller.
    let mut missing = Vec::new();
    let mut seen = HashSet::new();
    for entry in &create.files {
        let Some(sha) = &entry.sha256 else { continue };
        if !seen.insert(sha.as_str()) {
            continue;
        }
        match held(&tx, caller, sha)? {
            Some(size) if size != entry.size => {
                return Err(Error::invalid(format!(
                    "file {:?}: size {} does not match the stored blob {sha} of {size} bytes",
                    entry.path, entry.size
                )));
            }
            Some(_) => {}
            None => missing.push(sha.clone()),
        }
    }
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(3).map(|s| &s[..12]).collect();
        return Err(Error::conflict(format!(
            "{} of the version's blobs are not stored ({}...): upload them (POST /api/v1/projects/{entity}/{project}/blobs/missing) and retry",
            missing.len(),
            shown.join(", ")
        )));
    }

    let existing: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, type FROM artifacts WHERE project_id = ?1 AND name = ?2",
            params![project_pk, name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .db()?;
    let artifact_id = match existing {
        Some((_, kind)) if kind != create.kind => {
            return Err(Error::conflict(format!(
                "artifact {entity}/{project}/{name} is of type {kind:?}, not {:?}",
                create.kind
            )));
        }
        Some((id, _)) => id,
        None => {
            tx.execute(
                "INSERT INTO artifacts (project_id, name, type, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![project_pk, name, create.kind, create.description, now],
            )
            .db()?;
            tx.last_insert_rowid()
        }
    };

    let digest = manifest_digest(&create.files);
    let same: Option<i64> = tx
        .query_row(
            "SELECT id FROM artifact_versions WHERE artifact_id = ?1 AND digest = ?2 ORDER BY idx DESC LIMIT 1",
            params![artifact_id, digest],
            |row| row.get(0),
        )
        .optional()
        .db()?;
    if let Some(pk) = same {
        for alias in &create.aliases {
            put_alias(&tx, artifact_id, alias, pk)?;
        }
        if let Some(run) = producer {
            // A run that logs contents already stored used them.
            tx.execute(
                "INSERT OR IGNORE INTO artifact_uses (version_id, run_pk, at) VALUES (?1, ?2, ?3)",
                params![pk, run, now],
            )
            .db()?;
        }
        tx.commit().db()?;
        let mut version = version_by_pk(conn, pk)?;
        version.created = false;
        return Ok(version);
    }

    let index: i64 =
        tx.query_row("SELECT next_index FROM artifacts WHERE id = ?1", [artifact_id], |row| row.get(0)).db()?;
    let size: u64 = create.files.iter().map(|f| f.size).sum();
    let expires_at = create.ttl_seconds.filter(|ttl| *ttl > 0).map(|ttl| now + ttl as f64);
    tx.execute(
        "INSERT INTO artifact_versions (artifact_id, idx, digest, description, metadata, size, file_count, created_at, created_by, run_pk, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            artifact_id,
            index,
            digest,
            create.description,
            metadata,
            size as i64,
            create.files.len() as i64,
            now,
            caller.name,
            producer,
            expires_at
        ],
    )
    .db()?;
    let version_id = tx.last_insert_rowid();
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO artifact_files (version_id, path, size, sha256, reference, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .db()?;
        let mut counts: HashMap<&str, i64> = HashMap::new();
        for entry in &create.files {
            insert
                .execute(params![
                    version_id,
                    entry.path,
                    entry.size as i64,
                    entry.sha256,
                    entry.reference,
                    entry.digest
                ])
                .db()?;
            if let Some(sha) = &entry.sha256 {
                *counts.entry(sha.as_str()).or_default() += 1;
            }
        }
        let mut refs = tx.prepare_cached("UPDATE blobs SET refs = refs + ?2 WHERE sha256 = ?1").db()?;
        for (sha, count) in counts {
            refs.execute(params![sha, count]).db()?;
        }
    }
    put_alias(&tx, artifact_id, LATEST, version_id)?;
    for alias in &create.aliases {
        put_alias(&tx, artifact_id, alias, version_id)?;
    }
    tx.execute(
        "UPDATE artifacts SET next_index = next_index + 1, updated_at = ?2,
                description = COALESCE(?3, description) WHERE id = ?1",
        params![artifact_id, now, create.description],
    )
    .db()?;
    tx.commit().db()?;
    version_by_pk(conn, version_id)
}

const ARTIFACT_SELECT: &str = "SELECT e.name, p.name, a.name, a.type, a.description,
        (SELECT COUNT(*) FROM artifact_versions v WHERE v.artifact_id = a.id),
        (SELECT v.idx FROM artifact_aliases x JOIN artifact_versions v ON v.id = x.version_id WHERE x.artifact_id = a.id AND x.alias = 'latest'),
        (SELECT COALESCE(SUM(v.size), 0) FROM artifact_versions v WHERE v.artifact_id = a.id),
        a.created_at, a.updated_at
     FROM artifacts a JOIN projects p ON p.id = a.project_id JOIN entities e ON e.id = p.entity_id";

fn artifact_from_row(row: &rusqlite::Row) -> rusqlite::Result<Artifact> {
    Ok(Artifact {
        entity: row.get(0)?,
        project: row.get(1)?,
        name: row.get(2)?,
        kind: row.get(3)?,
        description: row.get(4)?,
        versions: row.get::<_, i64>(5)? as u64,
        latest: row.get::<_, Option<i64>>(6)?.map(|i| i as u64),
        size: row.get::<_, i64>(7)? as u64,
        created_at: time::rfc3339(row.get(8)?),
        updated_at: time::rfc3339(row.get(9)?),
    })
}

pub(crate) fn list_artifacts(
    conn: &Connection,
    entity: &str,
    project: &str,
    kind: Option<&str>,
) -> Result<Vec<Artifact>> {
    let project_pk = project_id(conn, entity, project, false)?;
    let mut stmt = conn
        .prepare_cached(&format!(
            "{ARTIFACT_SELECT} WHERE a.project_id = ?1 AND (?2 IS NULL OR a.type = ?2) ORDER BY a.name"
        ))
        .db()?;
    let rows = stmt.query_map(params![project_pk, kind], artifact_from_row).db()?;
    rows.collect::<std::result::Result<Vec<_>, _>>().db()
}

pub(crate) fn get_artifact(conn: &Connection, entity: &str, project: &str, name: &str) -> Result<Artifact> {
    let artifact = artifact_row(conn, entity, project, name)?;
    conn.query_row(&format!("{ARTIFACT_SELECT} WHERE a.id = ?1"), [artifact.id], artifact_from_row).db()
}

/// Deletes versions by row id, keeping blob reference counts right; refuses (before deleting
/// anything) when one is linked in the registry.
fn delete_versions(tx: &Transaction, versions: &[i64]) -> Result<()> {
    for pk in versions {
        let linked: Option<String> = tx
            .query_row(
                "SELECT e.name || '/' || m.name || ':v' || mv.idx FROM model_versions mv
                 JOIN models m ON m.id = mv.model_id JOIN entities e ON e.id = m.entity_id
                 WHERE mv.artifact_version_id = ?1 LIMIT 1",
                [pk],
                |row| row.get(0),
            )
            .optional()
            .db()?;
        if let Some(model) = linked {
            let version = version_by_pk(tx, *pk)?;
            return Err(Error::conflict(format!(
                "{}/{}/{}:{} is linked in the model registry as {model}; unlink it first",
                version.entity, version.project, version.name, version.version
            )));
        }
    }
    for pk in versions {
        tx.execute(
            "UPDATE blobs SET refs = refs - (SELECT COUNT(*) FROM artifact_files f WHERE f.version_id = ?1 AND f.sha256 = blobs.sha256)
             WHERE sha256 IN (SELECT sha256 FROM artifact_files WHERE version_id = ?1 AND sha256 IS NOT NULL)",
            [pk],
        )
        .db()?;
        tx.execute("DELETE FROM artifact_versions WHERE id = ?1", [pk]).db()?;
    }
    Ok(())
}

pub(crate) fn delete_artifact(conn: &mut Connection, entity: &str, project: &str, name: &str) -> Result<()> {
    let tx = conn.transaction().db()?;
    let artifact = artifact_row(&tx, entity, project, name)?;
    let versions = {
        let mut stmt = tx.prepare("SELECT id FROM artifact_versions WHERE artifact_id = ?1").db()?;
        let rows = stmt.query_map([artifact.id], |row| row.get::<_, i64>(0)).db()?;
        rows.collect::<std::result::Result<Vec<_>, _>>().db()?
    };
    delete_versions(&tx, &versions)?;
    tx.execute("DELETE FROM artifacts WHERE id = ?1", [artifact.id]).db()?;
    tx.commit().db()
}

pub(crate) fn list_versions(
    conn: &Connection,
    entity: &str,
    project: &str,
    name: &str,
) -> Result<Vec<ArtifactVersion>> {
    let artifact = artifact_row(conn, entity, project, name)?;
    let mut stmt =
        conn.prepare_cached(&format!("{VERSION_SELECT} WHERE v.artifact_id = ?1 ORDER BY v.idx DESC")).db()?;
    let rows = stmt.query_map([artifact.id], version_from_row).db()?;
    rows.collect::<std::result::Result<Vec<_>, _>>().db()
}

pub(crate) fn get_version(conn: &Connection, key: &ArtifactKey) -> Result<ArtifactVersion> {
    let artifact = artifact_row(conn, &key.entity, &key.project, &key.name)?;
    version_by_pk(conn, version_pk(conn, &artifact, &key.version)?)
}

pub(crate) fn patch_version(
    conn: &mut Connection,
    key: &ArtifactKey,
    patch: &VersionPatch,
    now: f64,
) -> Result<ArtifactVersion> {
    check_description(&patch.description)?;
    let metadata = patch.metadata.as_ref().map(check_metadata).transpose()?;
    let tx = conn.transaction().db()?;
    let artifact = artifact_row(&tx, &key.entity, &key.project, &key.name)?;
    let pk = version_pk(&tx, &artifact, &key.version)?;
    if let Some(description) = &patch.description {
        tx.execute("UPDATE artifact_versions SET description = ?2 WHERE id = ?1", params![pk, description]).db()?;
    }
    if let Some(metadata) = metadata {
        tx.execute("UPDATE artifact_versions SET metadata = ?2 WHERE id = ?1", params![pk, metadata]).db()?;
    }
    if let Some(ttl) = patch.ttl_seconds {
        let expires = (ttl > 0).then_some(now + ttl as f64);
        tx.execute("UPDATE artifact_versions SET expires_at = ?2 WHERE id = ?1", params![pk, expires]).db()?;
    }
    tx.commit().db()?;
    version_by_pk(conn, pk)
}

pub(crate) fn delete_version(conn: &mut Connection, key: &ArtifactKey) -> Result<()> {
    let tx = conn.transaction().db()?;
    let artifact = artifact_row(&tx, &key.entity, &key.project, &key.name)?;
    let pk = version_pk(&tx, &artifact, &key.version)?;
    delete_versions(&tx, &[pk])?;
    reset_latest(&tx, artifact.id)?;
    tx.commit().db()
}

pub(crate) fn version_files(conn: &Connection, key: &ArtifactKey) -> Result<Vec<ManifestEntry>> {
    let artifact = artifact_row(conn, &key.entity, &key.project, &key.name)?;
    let pk = version_pk(conn, &artifact, &key.version)?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT path, size, sha256, reference, digest FROM artifact_files WHERE version_id = ?1 ORDER BY path",
        )
        .db()?;
    let rows = stmt
        .query_map([pk], |row| {
            Ok(ManifestEntry {
                path: row.get(0)?,
                size: row.get::<_, i64>(1)? as u64,
                sha256: row.get(2)?,
                reference: row.get(3)?,
                digest: row.get(4)?,
            })
        })
        .db()?;
    rows.collect::<std::result::Result<Vec<_>, _>>().db()
}

pub(crate) fn set_alias(conn: &mut Connection, key: &ArtifactKey, alias: &str) -> Result<ArtifactVersion> {
    check_alias(alias)?;
    let tx = conn.transaction().db()?;
    let artifact = artifact_row(&tx, &key.entity, &key.project, &key.name)?;
    let pk = version_pk(&tx, &artifact, &key.version)?;
    put_alias(&tx, artifact.id, alias, pk)?;
    tx.commit().db()?;
    version_by_pk(conn, pk)
}

pub(crate) fn delete_alias(conn: &mut Connection, entity: &str, project: &str, name: &str, alias: &str) -> Result<()> {
    if alias == LATEST {
        return Err(Error::invalid("alias \"latest\" is moved by the server; it cannot be removed"));
    }
    let artifact = artifact_row(conn, entity, project, name)?;
    let removed = conn
        .execute("DELETE FROM artifact_aliases WHERE artifact_id = ?1 AND alias = ?2", params![artifact.id, alias])
        .db()?;
    if removed == 0 {
        return Err(Error::not_found(format!("artifact {entity}/{project}/{name} has no alias {alias:?}")));
    }
    Ok(())
}

pub(crate) fn record_use(conn: &mut Connection, key: &ArtifactKey, run: &RunRef, now: f64) -> Result<()> {
    let tx = conn.transaction().db()?;
    let artifact = artifact_row(&tx, &key.entity, &key.project, &key.name)?;
    let pk = version_pk(&tx, &artifact, &key.version)?;
    let run = run_pk(&tx, run)?;
    tx.execute(
        "INSERT OR IGNORE INTO artifact_uses (version_id, run_pk, at) VALUES (?1, ?2, ?3)",
        params![pk, run, now],
    )
    .db()?;
    tx.commit().db()
}

fn versions_where(conn: &Connection, condition: &str, pk: i64) -> Result<Vec<ArtifactVersion>> {
    let mut stmt =
        conn.prepare_cached(&format!("{VERSION_SELECT} WHERE {condition} ORDER BY v.created_at, v.id")).db()?;
    let rows = stmt.query_map([pk], version_from_row).db()?;
    rows.collect::<std::result::Result<Vec<_>, _>>().db()
}

pub(crate) fn run_artifacts(conn: &Connection, run: &RunRef) -> Result<RunArtifacts> {
    let pk = run_pk(conn, run)?;
    Ok(RunArtifacts {
        produced: versions_where(conn, "v.run_pk = ?1", pk)?,
        used: versions_where(conn, "v.id IN (SELECT version_id FROM artifact_uses WHERE run_pk = ?1)", pk)?,
    })
}

// ------------------------------------------------------------------------------------------
// lineage

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Run(i64),
    Version(i64),
}

fn node_of(conn: &Connection, node: Node) -> Result<LineageNode> {
    match node {
        Node::Run(pk) => {
            let run = crate::runs::get_run_by_pk(conn, pk)?;
            Ok(LineageNode {
                id: format!("run:{}/{}/{}", run.entity, run.project, run.id),
                kind: "run".into(),
                label: run.name,
                entity: run.entity,
                project: run.project,
                name: run.id,
                version: None,
                detail: run.state.as_str().to_string(),
            })
        }
        Node::Version(pk) => {
            let v = version_by_pk(conn, pk)?;
            Ok(LineageNode {
                id: format!("artifact:{}/{}/{}:{}", v.entity, v.project, v.name, v.version),
                kind: "artifact".into(),
                label: format!("{}:{}", v.name, v.version),
                entity: v.entity,
                project: v.project,
                name: v.name,
                version: Some(v.version),
                detail: v.kind,
            })
        }
    }
}

/// Neighbours of a node: upstream (what it came from) or downstream (what came of it), with
/// each edge as (from, to, kind).
/// An edge: from, to, and `produced` or `used`.
type Edge = (Node, Node, &'static str);

fn neighbours(conn: &Connection, node: Node, up: bool) -> Result<Vec<(Node, Edge)>> {
    let pks = |sql: &str, pk: i64| -> Result<Vec<i64>> {
        let mut stmt = conn.prepare_cached(sql).db()?;
        let rows = stmt.query_map([pk], |row| row.get::<_, i64>(0)).db()?;
        rows.collect::<std::result::Result<Vec<_>, _>>().db()
    };
    Ok(match (node, up) {
        // A version comes from the run that produced it.
        (Node::Version(v), true) => {
            pks("SELECT run_pk FROM artifact_versions WHERE id = ?1 AND run_pk IS NOT NULL", v)?
                .into_iter()
                .map(|r| (Node::Run(r), (Node::Run(r), node, "produced")))
                .collect()
        }
        // A version is used by runs.
        (Node::Version(v), false) => pks("SELECT run_pk FROM artifact_uses WHERE version_id = ?1 ORDER BY at", v)?
            .into_iter()
            .map(|r| (Node::Run(r), (node, Node::Run(r), "used")))
            .collect(),
        // A run comes from the versions it used.
        (Node::Run(r), true) => pks("SELECT version_id FROM artifact_uses WHERE run_pk = ?1 ORDER BY at", r)?
            .into_iter()
            .map(|v| (Node::Version(v), (Node::Version(v), node, "used")))
            .collect(),
        // A run produced versions.
        (Node::Run(r), false) => pks("SELECT id FROM artifact_versions WHERE run_pk = ?1 ORDER BY id", r)?
            .into_iter()
            .map(|v| (Node::Version(v), (node, Node::Version(v), "produced")))
            .collect(),
    })
}

/// Nodes in one lineage answer, at most.
const MAX_LINEAGE_NODES: usize = 2_000;

pub(crate) fn lineage(conn: &Connection, root: &LineageRoot, up: bool, down: bool, depth: u32) -> Result<Lineage> {
    let start = match root {
        LineageRoot::Run(run) => Node::Run(run_pk(conn, run)?),
        LineageRoot::Version(key) => {
            let artifact = artifact_row(conn, &key.entity, &key.project, &key.name)?;
            Node::Version(version_pk(conn, &artifact, &key.version)?)
        }
    };
    let mut order = vec![start];
    let mut seen: HashSet<Node> = HashSet::from([start]);
    let mut edges = Vec::new();
    let mut edge_seen = HashSet::new();
    for direction in [true, false] {
        if (direction && !up) || (!direction && !down) {
            continue;
        }
        let mut queue = VecDeque::from([(start, 0u32)]);
        let mut visited = HashSet::from([start]);
        while let Some((node, d)) = queue.pop_front() {
            if d >= depth || seen.len() >= MAX_LINEAGE_NODES {
                continue;
            }
            for (next, edge) in neighbours(conn, node, direction)? {
                if edge_seen.insert(edge) {
                    edges.push(edge);
                }
                if seen.insert(next) {
                    order.push(next);
                }
                if visited.insert(next) {
                    queue.push_back((next, d + 1));
                }
            }
        }
    }
    let nodes = order.iter().map(|n| node_of(conn, *n)).collect::<Result<Vec<_>>>()?;
    let ids: HashMap<Node, String> = order.iter().copied().zip(nodes.iter().map(|n| n.id.clone())).collect();
    let edges = edges
        .into_iter()
        .filter_map(|(from, to, kind)| {
            Some(LineageEdge { from: ids.get(&from)?.clone(), to: ids.get(&to)?.clone(), kind: kind.to_string() })
        })
        .collect();
    Ok(Lineage { root: ids[&start].clone(), nodes, edges })
}

// ------------------------------------------------------------------------------------------
// lifecycle

pub(crate) fn storage_report(conn: &Connection, entity: &str, project: &str) -> Result<StorageReport> {
    let project_pk = project_id(conn, entity, project, false)?;
    let mut stmt = conn
        .prepare(
            "SELECT a.name, a.type,
               (SELECT COUNT(*) FROM artifact_versions v WHERE v.artifact_id = a.id),
               (SELECT COALESCE(SUM(v.size), 0) FROM artifact_versions v WHERE v.artifact_id = a.id),
               (SELECT COALESCE(SUM(b.size), 0) FROM blobs b WHERE b.sha256 IN
                  (SELECT f.sha256 FROM artifact_files f JOIN artifact_versions v ON v.id = f.version_id WHERE v.artifact_id = a.id)),
               (SELECT COALESCE(SUM(b.size), 0) FROM blobs b WHERE b.sha256 IN
                  (SELECT f.sha256 FROM artifact_files f JOIN artifact_versions v ON v.id = f.version_id WHERE v.artifact_id = a.id)
                  AND NOT EXISTS (SELECT 1 FROM artifact_files f2 JOIN artifact_versions v2 ON v2.id = f2.version_id
                                  WHERE f2.sha256 = b.sha256 AND v2.artifact_id <> a.id))
             FROM artifacts a WHERE a.project_id = ?1",
        )
        .db()?;
    let rows = stmt
        .query_map([project_pk], |row| {
            Ok(ArtifactStorage {
                name: row.get(0)?,
                kind: row.get(1)?,

                versions: row.get::<_, i64>(2)? as u64,
                logical_bytes: row.get::<_, i64>(3)? as u64,
                stored_bytes: row.get::<_, i64>(4)? as u64,
                exclusive_bytes: row.get::<_, i64>(5)? as u64,
            })
        })
        .db()?;
    let mut artifacts = rows.collect::<std::result::Result<Vec<_>, _>>().db()?;
    artifacts.sort_by(|a, b| b.stored_bytes.cmp(&a.stored_bytes).then_with(|| a.name.cmp(&b.name)));
    let stored_bytes: i64 = conn
        .query_row(
            "SELECT COALESCE(SUM(b.size), 0) FROM blobs b WHERE b.sha256 IN
               (SELECT f.sha256 FROM artifact_files f JOIN artifact_versions v ON v.id = f.version_id
                JOIN artifacts a ON a.id = v.artifact_id WHERE a.project_id = ?1)",
            [project_pk],
            |row| row.get(0),
        )
        .db()?;
    let run_file_bytes: i64 = conn
        .query_row(
            "SELECT COALESCE(SUM(f.size), 0) FROM files f JOIN runs r ON r.id = f.run_pk WHERE r.project_id = ?1",
            [project_pk],
            |row| row.get(0),
        )
        .db()?;
    Ok(StorageReport {
        logical_bytes: artifacts.iter().map(|a| a.logical_bytes).sum(),
        artifacts,
        stored_bytes: stored_bytes as u64,
        run_file_bytes: run_file_bytes as u64,
    })
}

pub(crate) fn expire_versions(conn: &mut Connection, now: f64) -> Result<u64> {
    let tx = conn.transaction().db()?;
    let expired = {
        let mut stmt = tx
            .prepare(
                "SELECT v.id, v.artifact_id FROM artifact_versions v WHERE v.expires_at IS NOT NULL AND v.expires_at <= ?1
                 AND NOT EXISTS (SELECT 1 FROM model_versions mv WHERE mv.artifact_version_id = v.id)",
            )
            .db()?;
        let rows = stmt.query_map([now], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))).db()?;
        rows.collect::<std::result::Result<Vec<_>, _>>().db()?
    };
    let pks: Vec<i64> = expired.iter().map(|(pk, _)| *pk).collect();
    delete_versions(&tx, &pks)?;
    let artifacts: HashSet<i64> = expired.iter().map(|(_, a)| *a).collect();
    for artifact in artifacts {
        reset_latest(&tx, artifact)?;
    }
    tx.commit().db()?;
    Ok(pks.len() as u64)
}

// ------------------------------------------------------------------------------------------
// model registry

fn model_pk(conn: &Connection, entity: &str, model: &str) -> Result<i64> {
    let entity_id = entity_id(conn, entity)?;
    conn.prepare_cached("SELECT id FROM models WHERE entity_id = ?1 AND name = ?2")
        .db()?
        .query_row(params![entity_id, model], |row| row.get(0))
        .optional()
        .db()?
        .ok_or_else(|| Error::not_found(format!("registered model {entity}/{model} not found")))
}

fn model_versions(conn: &Connection, model_id: i64) -> Result<Vec<ModelVersion>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT mv.id, mv.idx, e.name || '/' || p.name || '/' || a.name || ':v' || v.idx, mv.linked_at, mv.linked_by,
                    (SELECT group_concat(alias, char(31)) FROM (SELECT alias FROM model_aliases x WHERE x.model_version_id = mv.id ORDER BY alias))
             FROM model_versions mv
             JOIN artifact_versions v ON v.id = mv.artifact_version_id
             JOIN artifacts a ON a.id = v.artifact_id
             JOIN projects p ON p.id = a.project_id
             JOIN entities e ON e.id = p.entity_id
             WHERE mv.model_id = ?1 ORDER BY mv.idx DESC",
        )
        .db()?;
    let rows = stmt
        .query_map([model_id], |row| {
            let index = row.get::<_, i64>(1)? as u64;
            let aliases: Option<String> = row.get(5)?;
            Ok(ModelVersion {
                version: version_name(index),
                index,
                artifact: row.get(2)?,
                aliases: aliases.map(|a| a.split('\u{1f}').map(str::to_string).collect()).unwrap_or_default(),
                linked_at: time::rfc3339(row.get(3)?),
                linked_by: row.get(4)?,
            })
        })
        .db()?;
    rows.collect::<std::result::Result<Vec<_>, _>>().db()
}

fn model_by_pk(conn: &Connection, pk: i64) -> Result<RegisteredModel> {
    let (entity, name, description, created_at, updated_at): (String, String, Option<String>, f64, f64) = conn
        .query_row(
            "SELECT e.name, m.name, m.description, m.created_at, m.updated_at FROM models m JOIN entities e ON e.id = m.entity_id WHERE m.id = ?1",
            [pk],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
        )
        .db()?;
    Ok(RegisteredModel {
        entity,
        name,
        description,
        versions: model_versions(conn, pk)?,
        created_at: time::rfc3339(created_at),
        updated_at: time::rfc3339(updated_at),
    })
}

struct Audit<'a> {
    action: &'a str,
    version: Option<String>,
    alias: Option<&'a str>,
    previous_version: Option<String>,
    artifact: Option<String>,
}

impl<'a> Audit<'a> {
    /// An entry of `action` with no other field; set those it has with `..`.
    fn of(action: &'a str) -> Audit<'a> {
        Audit { action, version: None, alias: None, previous_version: None, artifact: None }
    }
}

fn audit(tx: &Connection, model_id: i64, user: &str, now: f64, entry: Audit<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO model_audit (entity_id, model, at, user, action, version, alias, previous_version, artifact)
         SELECT entity_id, name, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM models WHERE id = ?1",
        params![model_id, now, user, entry.action, entry.version, entry.alias, entry.previous_version, entry.artifact],
    )
    .db()?;
    tx.execute("UPDATE models SET updated_at = ?2 WHERE id = ?1", params![model_id, now]).db()?;
    Ok(())
}

pub(crate) fn list_models(conn: &Connection, entity: &str) -> Result<Vec<RegisteredModel>> {
    let entity_id = entity_id(conn, entity)?;
    let pks = {
        let mut stmt = conn.prepare_cached("SELECT id FROM models WHERE entity_id = ?1 ORDER BY name").db()?;
        let rows = stmt.query_map([entity_id], |row| row.get::<_, i64>(0)).db()?;
        rows.collect::<std::result::Result<Vec<_>, _>>().db()?
    };
    pks.into_iter().map(|pk| model_by_pk(conn, pk)).collect()
}

pub(crate) fn create_model(
    conn: &mut Connection,
    entity: &str,
    create: &ModelCreate,
    user: &str,
    now: f64,
) -> Result<RegisteredModel> {
    check_artifact_name("model name", &create.name)?;
    check_description(&create.description)?;
    let tx = conn.transaction().db()?;
    let entity_id = entity_id(&tx, entity)?;
    let inserted = tx
        .execute(
            "INSERT INTO models (entity_id, name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT DO NOTHING",
            params![entity_id, create.name, create.description, now],
        )
        .db()?;
    if inserted == 0 {
        return Err(Error::already_exists(format!("registered model {entity}/{} already exists", create.name)));
    }
    let pk = tx.last_insert_rowid();
    audit(&tx, pk, user, now, Audit::of("create"))?;
    tx.commit().db()?;
    model_by_pk(conn, pk)
}

pub(crate) fn get_model(conn: &Connection, entity: &str, name: &str) -> Result<RegisteredModel> {
    model_by_pk(conn, model_pk(conn, entity, name)?)
}

pub(crate) fn delete_model(conn: &mut Connection, entity: &str, name: &str, user: &str, now: f64) -> Result<()> {
    let tx = conn.transaction().db()?;
    let pk = model_pk(&tx, entity, name)?;
    audit(&tx, pk, user, now, Audit::of("delete"))?;
    tx.execute("DELETE FROM models WHERE id = ?1", [pk]).db()?;
    tx.commit().db()
}

fn model_version_pk(conn: &Connection, model_id: i64, version: &str) -> Result<(i64, u64)> {
    let found: Option<(i64, i64)> = match version_index(version) {
        Some(index) => conn
            .query_row(
                "SELECT id, idx FROM model_versions WHERE model_id = ?1 AND idx = ?2",
                params![model_id, index as i64],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .db()?,
        None => conn
            .query_row(
                "SELECT mv.id, mv.idx FROM model_aliases x JOIN model_versions mv ON mv.id = x.model_version_id
                 WHERE x.model_id = ?1 AND x.alias = ?2",
                params![model_id, version],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .db()?,
    };
    found
        .map(|(pk, idx)| (pk, idx as u64))
        .ok_or_else(|| Error::not_found(format!("the registered model has no version {version:?}")))
}

fn model_version(conn: &Connection, model_id: i64, pk: i64) -> Result<ModelVersion> {
    let index: i64 = conn.query_row("SELECT idx FROM model_versions WHERE id = ?1", [pk], |row| row.get(0)).db()?;
    model_versions(conn, model_id)?
        .into_iter()
        .find(|v| v.index == index as u64)
        .ok_or_else(|| Error::internal("model version vanished"))
}

/// Points a model alias at a model version, auditing the move.
fn put_model_alias(
    tx: &Connection,
    model_id: i64,
    alias: &str,
    pk: i64,
    index: u64,
    user: &str,
    now: f64,
) -> Result<()> {
    let previous: Option<i64> = tx
        .query_row(
            "SELECT mv.idx FROM model_aliases x JOIN model_versions mv ON mv.id = x.model_version_id WHERE x.model_id = ?1 AND x.alias = ?2",
            params![model_id, alias],
            |row| row.get(0),
        )
        .optional()
        .db()?;
    if previous == Some(index as i64) {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO model_aliases (model_id, alias, model_version_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (model_id, alias) DO UPDATE SET model_version_id = excluded.model_version_id",
        params![model_id, alias, pk],
    )
    .db()?;
    audit(
        tx,
        model_id,
        user,
        now,
        Audit {
            version: Some(version_name(index)),
            alias: Some(alias),
            previous_version: previous.map(|p| version_name(p as u64)),
            ..Audit::of("alias_set")
        },
    )
}

pub(crate) fn link_model_version(
    conn: &mut Connection,
    entity: &str,
    model: &str,
    artifact: &ArtifactKey,
    aliases: &[String],
    user: &str,
    now: f64,
) -> Result<(ModelVersion, bool)> {
    for alias in aliases {
        check_alias(alias)?;
    }
    let tx = conn.transaction().db()?;
    let model_id = model_pk(&tx, entity, model)?;
    let art = artifact_row(&tx, &artifact.entity, &artifact.project, &artifact.name)?;
    let version_id = version_pk(&tx, &art, &artifact.version)?;
    let existing: Option<(i64, i64)> = tx
        .query_row(
            "SELECT id, idx FROM model_versions WHERE model_id = ?1 AND artifact_version_id = ?2",
            params![model_id, version_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .db()?;
    let (pk, index, created) = match existing {
        Some((pk, idx)) => (pk, idx as u64, false),
        None => {
            let index: i64 =
                tx.query_row("SELECT next_index FROM models WHERE id = ?1", [model_id], |row| row.get(0)).db()?;
            tx.execute(
                "INSERT INTO model_versions (model_id, idx, artifact_version_id, linked_at, linked_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![model_id, index, version_id, now, user],
            )
            .db()?;
            let pk = tx.last_insert_rowid();
            tx.execute("UPDATE models SET next_index = next_index + 1 WHERE id = ?1", [model_id]).db()?;
            let v = version_by_pk(&tx, version_id)?;
            audit(
                &tx,
                model_id,
                user,
                now,
                Audit {
                    version: Some(version_name(index as u64)),
                    artifact: Some(format!("{}/{}/{}:{}", v.entity, v.project, v.name, v.version)),
                    ..Audit::of("link")
                },
            )?;
            (pk, index as u64, true)
        }
    };
    for alias in aliases {
        put_model_alias(&tx, model_id, alias, pk, index, user, now)?;
    }
    tx.commit().db()?;
    Ok((model_version(conn, model_id, pk)?, created))
}

pub(crate) fn unlink_model_version(
    conn: &mut Connection,
    entity: &str,
    model: &str,
    version: &str,
    user: &str,
    now: f64,
) -> Result<()> {
    let tx = conn.transaction().db()?;
    let model_id = model_pk(&tx, entity, model)?;
    let (pk, index) = model_version_pk(&tx, model_id, version)?;
    let linked = model_version(&tx, model_id, pk)?;
    for alias in &linked.aliases {
        audit(
            &tx,
            model_id,
            user,
            now,
            Audit { version: Some(version_name(index)), alias: Some(alias), ..Audit::of("alias_remove") },
        )?;
    }
    tx.execute("DELETE FROM model_versions WHERE id = ?1", [pk]).db()?;
    audit(
        &tx,
        model_id,
        user,
        now,
        Audit { version: Some(version_name(index)), artifact: Some(linked.artifact), ..Audit::of("unlink") },
    )?;
    tx.commit().db()
}

pub(crate) fn set_model_alias(
    conn: &mut Connection,
    entity: &str,
    model: &str,
    alias: &str,
    version: &str,
    user: &str,
    now: f64,
) -> Result<ModelVersion> {
    check_alias(alias)?;
    let tx = conn.transaction().db()?;
    let model_id = model_pk(&tx, entity, model)?;
    let (pk, index) = model_version_pk(&tx, model_id, version)?;
    put_model_alias(&tx, model_id, alias, pk, index, user, now)?;
    tx.commit().db()?;
    model_version(conn, model_id, pk)
}

pub(crate) fn delete_model_alias(
    conn: &mut Connection,
    entity: &str,
    model: &str,
    alias: &str,
    user: &str,
    now: f64,
) -> Result<()> {
    let tx = conn.transaction().db()?;
    let model_id = model_pk(&tx, entity, model)?;
    let (_, index) = model_version_pk(&tx, model_id, alias)
        .map_err(|_| Error::not_found(format!("registered model {entity}/{model} has no alias {alias:?}")))?;
    tx.execute("DELETE FROM model_aliases WHERE model_id = ?1 AND alias = ?2", params![model_id, alias]).db()?;
    audit(
        &tx,
        model_id,
        user,
        now,
        Audit { version: Some(version_name(index)), alias: Some(alias), ..Audit::of("alias_remove") },
    )?;
    tx.commit().db()
}

pub(crate) fn model_audit(conn: &Connection, entity: &str, model: &str) -> Result<Vec<AuditEntry>> {
    let entity_id = entity_id(conn, entity)?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT at, user, action, version, alias, previous_version, artifact FROM model_audit
             WHERE entity_id = ?1 AND model = ?2 ORDER BY id",
        )
        .db()?;
    let rows = stmt
        .query_map(params![entity_id, model], |row| {
            Ok(AuditEntry {
                at: time::rfc3339(row.get(0)?),
                user: row.get(1)?,
                action: row.get(2)?,
                version: row.get(3)?,
                alias: row.get(4)?,
                previous_version: row.get(5)?,
                artifact: row.get(6)?,
            })
        })
        .db()?;
    let entries = rows.collect::<std::result::Result<Vec<_>, _>>().db()?;
    if entries.is_empty() {
        return Err(Error::not_found(format!("registered model {entity}/{model} not found")));
    }
    Ok(entries)
}
