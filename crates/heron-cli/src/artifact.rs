//! `heron artifact ...` and `heron model ...`: the artifacts and model registry from the shell.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use heron_client::artifacts::{Artifact, Artifacts};
use heron_client::cache::human_bytes;

/// Where the server is and which project and entity to use.
#[derive(Args, Debug, Clone)]
pub struct Target {
    /// Project [default: HERON_PROJECT]
    #[arg(long, short = 'p', env = "HERON_PROJECT")]
    project: Option<String>,
    /// Entity (user or team) [default: HERON_ENTITY, else the API key's user]
    #[arg(long, short = 'e', env = "HERON_ENTITY")]
    entity: Option<String>,
    /// Server URL
    #[arg(long, env = "HERON_BASE_URL", default_value = heron_client::settings::DEFAULT_BASE_URL)]
    host: String,
}

impl Target {
    fn client(&self) -> Result<Artifacts> {
        let settings = heron_client::Settings::from_env()?.with_base_url(&self.host);
        let mut client = Artifacts::new(&settings)?;
        let given = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        client.default_entity = given(&self.entity).or(client.default_entity);
        client.default_project = given(&self.project).or(client.default_project);
        Ok(client)
    }
}

#[derive(Subcommand)]
pub enum ArtifactCommand {
    /// Upload a file or a folder as a new version of an artifact.
    ///
    /// Only files the server does not hold yet are sent (a blob is stored once, whatever
    /// version or project holds it), so a new version that changes one file uploads one file.
    /// An interrupted upload resumes where it stopped when the same command runs again.
    /// Prints `entity/project/name:vN`.
    Put(PutArgs),
    /// Download a version's files (verified by sha256) into a folder.
    ///
    /// REF is `name[:version]`, `project/name[:version]` or `entity/project/name[:version]`;
    /// version is `vN`, `latest` (the default) or an alias. Files already in the local cache
    /// (HERON_CACHE_DIR, default ~/.cache/heron/artifacts) are not downloaded again.
    Get(GetArgs),
    /// List a project's artifacts, or the versions of one.
    Ls(LsArgs),
    /// Delete one version (`NAME:vN` or `NAME:alias`), or a whole artifact (`NAME`).
    ///
    /// The bytes are freed by the server's garbage collection once no version holds them.
    Rm(RmArgs),
    /// Manage the local download cache.
    #[command(subcommand)]
    Cache(CacheCommand),
}

#[derive(Args)]
pub struct PutArgs {
    /// A file or a folder
    path: PathBuf,
    /// Artifact name [default: the path's file name]
    #[arg(long, short = 'n')]
    name: Option<String>,
    /// Artifact type
    #[arg(long = "type", short = 't', value_name = "TYPE", default_value = "dataset")]
    kind: String,
    /// Alias to put on the new version (repeatable); `latest` moves by itself
    #[arg(long = "alias", short = 'a', value_name = "ALIAS")]
    aliases: Vec<String>,
    /// Description of the version
    #[arg(long, short = 'd')]
    description: Option<String>,
    /// Metadata of the version, a JSON object
    #[arg(long, short = 'm')]
    metadata: Option<String>,
    /// Id of the run (in the project) that produced it, for lineage
    #[arg(long)]
    run: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(Args)]
pub struct GetArgs {
    /// `name[:version]`, `project/name[:version]` or `entity/project/name[:version]`
    reference: String,
    /// Folder to download into [default: ./artifacts/NAME-vN]
    #[arg(long)]
    root: Option<PathBuf>,
    #[command(flatten)]
    target: Target,
}

#[derive(Args)]
pub struct LsArgs {
    /// An artifact: list its versions
    name: Option<String>,
    /// Only artifacts of this type
    #[arg(long = "type", short = 't', value_name = "TYPE")]
    kind: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(Args)]
pub struct RmArgs {
    /// `NAME` (the whole artifact) or `NAME:VERSION`
    reference: String,
    #[command(flatten)]
    target: Target,
}

#[derive(Subcommand)]
pub enum CacheCommand {
    /// Remove the least recently used blobs until the cache is at most --max-size.
    Cleanup {
        /// Size to shrink to: bytes, or with a unit (500MB, 10GB, 2GiB) [default: HERON_CACHE_SIZE, else 10GB]
        #[arg(long)]
        max_size: Option<String>,
    },
}

pub fn run(command: ArtifactCommand) -> Result<()> {
    match command {
        ArtifactCommand::Put(args) => put(args),
        ArtifactCommand::Get(args) => get(args),
        ArtifactCommand::Ls(args) => ls(args),
        ArtifactCommand::Rm(args) => rm(args),
        ArtifactCommand::Cache(CacheCommand::Cleanup { max_size }) => {
            let limit = max_size.as_deref().map(heron_client::parse_size).transpose()?;
            let dir = heron_client::cache::default_dir()?;
            let (files, bytes) = heron_client::cache_cleanup(limit)?;
            println!("Removed {files} files ({}) from {}", human_bytes(bytes), dir.display());
            Ok(())
        }
    }
}

fn put(args: PutArgs) -> Result<()> {
    let client = args.target.client()?;
    let name = match args.name {
        Some(name) => name,
        None => {
            let absolute =
                std::fs::canonicalize(&args.path).with_context(|| format!("cannot read {}", args.path.display()))?;
            let name = absolute.file_name().and_then(|n| n.to_str()).map(String::from).unwrap_or_default();
            if heron_client::artifacts::check_artifact_name("artifact name", &name).is_err() {
                bail!("{name:?} is not a valid artifact name (letters, digits, '_', '-', '.'); pass --name NAME");
            }
            name
        }
    };
    let mut artifact = Artifact::new(&name, &args.kind);
    if let Some(description) = &args.description {
        artifact.description(description);
    }
    if let Some(text) = &args.metadata {
        let metadata: serde_json::Value =
            serde_json::from_str(text).with_context(|| format!("--metadata is not valid JSON: {text}"))?;
        if !metadata.is_object() {
            bail!("--metadata must be a JSON object, like '{{\"rows\": 100}}'");
        }
        artifact.metadata(metadata);
    }
    let metadata = std::fs::metadata(&args.path).with_context(|| format!("cannot read {}", args.path.display()))?;
    if metadata.is_dir() {
        artifact.add_dir(&args.path, None)?;
    } else {
        artifact.add_file(&args.path, None)?;
    }
    artifact.validate()?;
    let project = client.project()?;
    let entity = client.entity()?;
    let report = client.log_artifact(&entity, &project, &artifact, &args.aliases, args.run.as_deref())?;
    let version = &report.version;
    println!("{}/{}/{}:{}", version.entity, version.project, version.name, version.version);
    let mut line = format!(
        "{} files, {} uploaded, {} already stored",
        report.files,
        human_bytes(report.uploaded_bytes),
        human_bytes(report.deduplicated_bytes)
    );
    if report.resumed_bytes > 0 {
        line.push_str(&format!(", {} sent by an earlier interrupted upload", human_bytes(report.resumed_bytes)));
    }
    println!("{line}");
    if !version.created {
        println!(
            "Same contents as {}: no new version was made (aliases: {})",
            version.version,
            version.aliases.join(", ")
        );
    }
    Ok(())
}

fn get(args: GetArgs) -> Result<()> {
    let client = args.target.client()?;
    let version = client.get(&args.reference)?;
    let root =
        args.root.unwrap_or_else(|| PathBuf::from("artifacts").join(format!("{}-{}", version.name, version.version)));
    let report = client.download(&version, &root)?;
    println!("{}/{}/{}:{} -> {}", version.entity, version.project, version.name, version.version, root.display());
    println!(
        "{} files: {} downloaded ({}), {} from the cache, {} already there",
        report.files.len(),
        report.files.len() as u64 - report.from_cache - report.already_present,
        human_bytes(report.downloaded_bytes),
        report.from_cache,
        report.already_present
    );
    for skipped in &report.skipped_references {
        println!(
            "  not downloaded (a reference): {} -> {}",
            skipped.path,
            skipped.reference.as_deref().unwrap_or_default()
        );
    }
    Ok(())
}

fn ls(args: LsArgs) -> Result<()> {
    let client = args.target.client()?;
    let project = client.project()?;
    let entity = client.entity()?;
    match args.name {
        None => {
            let artifacts = client.list(&entity, &project, args.kind.as_deref())?;
            if artifacts.is_empty() {
                println!("No artifacts in {entity}/{project}.");
            }
            for artifact in artifacts {
                let latest = artifact.latest.map(|i| format!("v{i}")).unwrap_or_else(|| "-".into());
                println!(
                    "{:<32} {:<12} {:>4} versions  latest {:<6} {}",
                    artifact.name,
                    artifact.kind,
                    artifact.versions,
                    latest,
                    human_bytes(artifact.size)
                );
            }
        }
        Some(name) => {
            for version in client.versions(&entity, &project, &name)? {
                println!(
                    "{:<6} {:>6} files {:>10}  {}  {}{}",
                    version.version,
                    version.file_count,
                    human_bytes(version.size),
                    version.created_at,
                    version.aliases.join(","),
                    version.run.as_deref().map(|r| format!("  (run {r})")).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn rm(args: RmArgs) -> Result<()> {
    let client = args.target.client()?;
    let project = client.project()?;
    let entity = client.entity()?;
    let (name, version) = match args.reference.split_once(':') {
        Some((name, version)) => (name.to_string(), Some(version.to_string())),
        None => (args.reference.clone(), None),
    };
    heron_client::artifacts::check_artifact_name("artifact name", &name)?;
    client.delete(&entity, &project, &name, version.as_deref())?;
    match version {
        Some(version) => println!("Deleted {entity}/{project}/{name}:{version}"),
        None => println!("Deleted {entity}/{project}/{name} and all its versions"),
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Register a model (in the entity).
    Create {
        name: String,
        #[arg(long, short = 'd')]
        description: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// List registered models, or the versions and aliases of one.
    Ls {
        name: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Link an artifact version (`project/name:version` or `entity/project/name:version`) as
    /// the model's next version.
    Link {
        model: String,
        artifact: String,
        /// Alias to put on the model version (repeatable), e.g. `staging`
        #[arg(long = "alias", short = 'a', value_name = "ALIAS")]
        aliases: Vec<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Point an alias (e.g. `production`) at a model version, or remove it with --remove.
    Alias {
        model: String,
        alias: String,
        /// The model version (`v2`) or another alias
        version: Option<String>,
        /// Remove the alias instead
        #[arg(long)]
        remove: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Remove a model version (the artifact version stays).
    Unlink {
        model: String,
        version: String,
        #[command(flatten)]
        target: Target,
    },
    /// Show who created, linked, unlinked and moved aliases of a model, and when.
    Audit {
        model: String,
        #[command(flatten)]
        target: Target,
    },
}

pub fn model(command: ModelCommand) -> Result<()> {
    match command {
        ModelCommand::Create { name, description, target } => {
            let client = target.client()?;
            let entity = client.entity()?;
            let model = client.create_model(&entity, &name, description.as_deref())?;
            println!("Registered model {}/{}", model.entity, model.name);
        }
        ModelCommand::Ls { name: None, target } => {
            let client = target.client()?;
            let entity = client.entity()?;
            let models = client.models(&entity)?;
            if models.is_empty() {
                println!("No registered models in {entity}; create one with `heron model create NAME`.");
            }
            for model in models {
                let aliases: Vec<String> = model
                    .versions
                    .iter()
                    .flat_map(|v| v.aliases.iter().map(move |a| format!("{a}={}", v.version)))
                    .collect();
                println!("{:<32} {:>4} versions  {}", model.name, model.versions.len(), aliases.join(" "));
            }
        }
        ModelCommand::Ls { name: Some(name), target } => {
            let client = target.client()?;
            let entity = client.entity()?;
            let model = client.model(&entity, &name)?;
            println!(
                "{}/{}{}",
                model.entity,
                model.name,
                model.description.map(|d| format!(": {d}")).unwrap_or_default()
            );
            for version in model.versions {
                println!(
                    "{:<6} {:<48} {:<20} linked {} by {}",
                    version.version,
                    version.artifact,
                    version.aliases.join(","),
                    version.linked_at,
                    version.linked_by
                );
            }
        }
        ModelCommand::Link { model, artifact, aliases, target } => {
            let client = target.client()?;
            let entity = client.entity()?;
            let artifact = qualify(&client, &artifact)?;
            let version = client.link(&entity, &model, &artifact, &aliases)?;
            println!("{entity}/{model}:{} -> {}", version.version, version.artifact);
        }
        ModelCommand::Alias { model, alias, version, remove, target } => {
            let client = target.client()?;
            let entity = client.entity()?;
            match (remove, version) {
                (true, None) => {
                    client.remove_model_alias(&entity, &model, &alias)?;
                    println!("Removed alias {alias} of {entity}/{model}");
                }
                (false, Some(version)) => {
                    let moved = client.set_model_alias(&entity, &model, &alias, &version)?;
                    println!("{entity}/{model}:{alias} -> {} ({})", moved.version, moved.artifact);
                }
                (true, Some(_)) => bail!("give either a VERSION to point the alias at, or --remove, not both"),
                (false, None) => bail!("give the VERSION to point {alias} at (e.g. v2), or --remove to remove it"),
            }
        }
        ModelCommand::Unlink { model, version, target } => {
            let client = target.client()?;
            let entity = client.entity()?;
            client.unlink(&entity, &model, &version)?;
            println!("Unlinked {entity}/{model}:{version}");
        }
        ModelCommand::Audit { model, target } => {
            let client = target.client()?;
            let entity = client.entity()?;
            for entry in client.audit(&entity, &model)? {
                let mut line = format!("{}  {:<12} {:<14}", entry.at, entry.user, entry.action);
                if let Some(version) = &entry.version {
                    line.push_str(&format!(" {version}"));
                }
                if let Some(alias) = &entry.alias {
                    line.push_str(&format!(" alias {alias}"));
                }
                if let Some(previous) = &entry.previous_version {
                    line.push_str(&format!(" (was {previous})"));
                }
                if let Some(artifact) = &entry.artifact {
                    line.push_str(&format!(" {artifact}"));
                }
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// `name:version` gets the default project, so the server can resolve it.
fn qualify(client: &Artifacts, reference: &str) -> Result<String> {
    let parsed = heron_client::ArtifactRef::parse(reference)?;
    Ok(match (parsed.entity, parsed.project) {
        (Some(entity), Some(project)) => format!("{entity}/{project}/{}:{}", parsed.name, parsed.version),
        (None, Some(project)) => format!("{project}/{}:{}", parsed.name, parsed.version),
        _ => format!("{}/{}:{}", client.project()?, parsed.name, parsed.version),
    })
}
