//! Users, API keys, login tokens, entities and projects.

use heron_core::{Error, Result, User, names, time};
use heron_types::{Entity, Project, ProjectCreate};
use rusqlite::{Connection, OptionalExtension, params};

use crate::ResultExt;

pub(crate) fn insert_user(conn: &Connection, name: &str, admin: bool, key_hash: &str) -> Result<User> {
    names::check_name("user name", name)?;
    let now = time::now();
    let taken: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM entities WHERE name = ?1)", [name], |row| row.get(0)).db()?;
    if taken {
        return Err(Error::already_exists(format!("the name {name:?} is taken by a user or team")));
    }
    conn.execute("INSERT INTO users (name, admin, created_at) VALUES (?1, ?2, ?3)", params![name, admin, now]).db()?;
    let user_id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO api_keys (hash, user_id, created_at) VALUES (?1, ?2, ?3)",
        params![key_hash, user_id, now],
    )
    .db()?;
    conn.execute("INSERT INTO entities (name, kind, created_at) VALUES (?1, 'user', ?2)", params![name, now]).db()?;
    let entity_id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO memberships (entity_id, user_id, role) VALUES (?1, ?2, 'admin')",
        params![entity_id, user_id],
    )
    .db()?;
    Ok(User { id: user_id, name: name.to_string(), admin })
}

pub(crate) fn user_count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0)).db()
}

pub(crate) fn user_by_key(conn: &Connection, key_hash: &str) -> Result<Option<User>> {
    conn.query_row(
        "SELECT u.id, u.name, u.admin FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = ?1",
        [key_hash],
        |row| Ok(User { id: row.get(0)?, name: row.get(1)?, admin: row.get(2)? }),
    )
    .optional()
    .db()
}

pub(crate) fn add_api_key(conn: &Connection, user_id: i64, key_hash: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO api_keys (hash, user_id, created_at) VALUES (?1, ?2, ?3)",
        params![key_hash, user_id, time::now()],
    )
    .db()?;
    Ok(())
}

pub(crate) fn add_login_token(conn: &Connection, user: &str, token_hash: &str, expires_at: f64) -> Result<()> {
    let changed = conn
        .execute(
            "INSERT INTO login_tokens (hash, user_id, expires_at) SELECT ?1, id, ?3 FROM users WHERE name = ?2",
            params![token_hash, user, expires_at],
        )
        .db()?;
    if changed == 0 {
        return Err(Error::not_found(format!("user {user:?} not found")));
    }
    Ok(())
}

pub(crate) fn redeem_login_token(conn: &Connection, token_hash: &str, now: f64) -> Result<Option<User>> {
    let user = conn
        .query_row(
            "SELECT u.id, u.name, u.admin, t.expires_at FROM login_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1",
            [token_hash],
            |row| Ok((User { id: row.get(0)?, name: row.get(1)?, admin: row.get(2)? }, row.get::<_, f64>(3)?)),
        )
        .optional()
        .db()?;
    conn.execute("DELETE FROM login_tokens WHERE hash = ?1 OR expires_at < ?2", params![token_hash, now]).db()?;
    Ok(user.and_then(|(user, expires_at)| (expires_at >= now).then_some(user)))
}

pub(crate) fn entities_of(conn: &Connection, user_id: i64) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT e.name FROM memberships m JOIN entities e ON e.id = m.entity_id WHERE m.user_id = ?1 ORDER BY e.name")
        .db()?;
    let names = stmt.query_map([user_id], |row| row.get(0)).db()?.collect::<Result<Vec<String>, _>>().db()?;
    Ok(names)
}

fn entity_row(row: &rusqlite::Row) -> rusqlite::Result<Entity> {
    Ok(Entity { name: row.get(0)?, kind: row.get(1)?, created_at: time::rfc3339(row.get(2)?) })
}

pub(crate) fn get_entity(conn: &Connection, name: &str) -> Result<Entity> {
    conn.query_row("SELECT name, kind, created_at FROM entities WHERE name = ?1", [name], entity_row)
        .optional()
        .db()?
        .ok_or_else(|| Error::not_found(format!("entity {name:?} not found")))
}

/// Run inside a transaction: the team and its first membership are written together.
pub(crate) fn create_team(conn: &Connection, name: &str, owner_id: i64) -> Result<Entity> {
    names::check_name("team name", name)?;
    let owner_exists: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)", [owner_id], |row| row.get(0)).db()?;
    if !owner_exists {
        return Err(Error::not_found(format!("user {owner_id} (the team's owner) not found")));
    }
    let now = time::now();
    let inserted = conn
        .execute(
            "INSERT INTO entities (name, kind, created_at) VALUES (?1, 'team', ?2) ON CONFLICT (name) DO NOTHING",
            params![name, now],
        )
        .db()?;
    if inserted == 0 {
        return Err(Error::already_exists(format!("the name {name:?} is taken by a user or team")));
    }
    let entity_id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO memberships (entity_id, user_id, role) VALUES (?1, ?2, 'admin')",
        params![entity_id, owner_id],
    )
    .db()?;
    get_entity(conn, name)
}

pub(crate) fn entity_id(conn: &Connection, entity: &str) -> Result<i64> {
    conn.query_row("SELECT id FROM entities WHERE name = ?1", [entity], |row| row.get(0))
        .optional()
        .db()?
        .ok_or_else(|| Error::not_found(format!("entity {entity:?} not found")))
}

/// The project's row id, creating the project when `create` is set.
pub(crate) fn project_id(conn: &Connection, entity: &str, project: &str, create: bool) -> Result<i64> {
    let existing = conn
        .query_row(
            "SELECT p.id FROM projects p JOIN entities e ON e.id = p.entity_id WHERE e.name = ?1 AND p.name = ?2",
            params![entity, project],
            |row| row.get(0),
        )
        .optional()
        .db()?;
    match existing {
        Some(id) => Ok(id),
        None if create => {
            names::check_name("project name", project)?;
            let entity_pk = entity_id(conn, entity)?;
            conn.execute(
                "INSERT INTO projects (entity_id, name, created_at) VALUES (?1, ?2, ?3)",
                params![entity_pk, project, time::now()],
            )
            .db()?;
            Ok(conn.last_insert_rowid())
        }
        None => Err(Error::not_found(format!(
            "project {entity}/{project} not found; it is created by the first run logged to it, or by POST /api/v1/entities/{entity}/projects"
        ))),
    }
}

const PROJECT_SELECT: &str =
    "SELECT e.name, p.name, p.description, p.created_at, (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id)
     FROM projects p JOIN entities e ON e.id = p.entity_id";

fn project_row(row: &rusqlite::Row) -> rusqlite::Result<Project> {
    Ok(Project {
        entity: row.get(0)?,
        name: row.get(1)?,
        description: row.get(2)?,
        created_at: time::rfc3339(row.get(3)?),
        run_count: row.get::<_, i64>(4)? as u64,
    })
}

pub(crate) fn create_project(conn: &Connection, entity: &str, create: &ProjectCreate) -> Result<Project> {
    names::check_name("project name", &create.name)?;
    let entity_pk = entity_id(conn, entity)?;
    let inserted = conn
        .execute(
            "INSERT INTO projects (entity_id, name, description, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![entity_pk, create.name, create.description, time::now()],
        )
        .db()?;
    if inserted == 0 {
        return Err(Error::already_exists(format!("project {entity}/{} already exists", create.name)));
    }
    get_project(conn, entity, &create.name)
}

pub(crate) fn get_project(conn: &Connection, entity: &str, project: &str) -> Result<Project> {
    conn.query_row(
        &format!("{PROJECT_SELECT} WHERE e.name = ?1 AND p.name = ?2"),
        params![entity, project],
        project_row,
    )
    .optional()
    .db()?
    .ok_or_else(|| Error::not_found(format!("project {entity}/{project} not found")))
}

pub(crate) fn list_projects(conn: &Connection, entity: &str) -> Result<Vec<Project>> {
    entity_id(conn, entity)?;
    let mut stmt = conn.prepare(&format!("{PROJECT_SELECT} WHERE e.name = ?1 ORDER BY p.name")).db()?;
    let projects = stmt.query_map([entity], project_row).db()?.collect::<Result<Vec<_>, _>>().db()?;
    Ok(projects)
}
