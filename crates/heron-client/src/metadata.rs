//! What a run records about itself without being asked: the git state of the code it runs, the
//! host it runs on and its command line.
//!
//! Git facts come from the `git` command, not a library, so they match what the user's own git
//! says (worktrees, submodules, `safe.directory` and all).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use sysinfo::{
    CpuRefreshKind, MemoryRefreshKind, ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System, UpdateKind,
};

/// Output cap for git commands whose output is only inspected, not kept.
const SMALL_OUTPUT_BYTES: usize = 64 * 1024;

/// The git state of the repository a run's code lives in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Git {
    /// The full hash of `HEAD`.
    pub commit: String,
    /// The checked-out branch; `None` on a detached `HEAD`.
    pub branch: Option<String>,
    /// The URL of `origin`, else of the first remote, without credentials.
    pub remote: Option<String>,
    /// Whether tracked files differ from `HEAD` (staged or not). Untracked files do not count.
    pub dirty: bool,
}

/// Git facts for the repository containing `dir`, or None when not in a repo / git not installed.
///
/// A repository without any commit yet also gives `None`.
pub fn git(dir: &Path) -> Option<Git> {
    let head = run_git(dir, &["rev-parse", "--verify", "--quiet", "HEAD"], SMALL_OUTPUT_BYTES)?;
    let commit = String::from_utf8_lossy(&head.stdout).trim().to_string();
    if commit.is_empty() {
        return None;
    }
    let branch = run_git(dir, &["symbolic-ref", "--quiet", "--short", "HEAD"], SMALL_OUTPUT_BYTES)
        .and_then(|output| non_empty_line(&output.stdout));
    let remote = remote_url(dir).map(|url| strip_credentials(&url));
    // One byte of output is enough to know that something changed.
    let dirty = run_git(dir, &["status", "--porcelain", "--untracked-files=no"], 1)
        .is_some_and(|output| !output.stdout.is_empty());
    Some(Git { commit, branch, remote, dirty })
}

/// `git diff HEAD` (uncommitted changes incl. staged), capped at `max_bytes`; None when clean or not a repo.
///
/// The patch is cut on a character boundary when it is longer; bytes that are not UTF-8 (binary
/// or Latin-1 files) become U+FFFD. Untracked files are not part of it.
pub fn git_diff(dir: &Path, max_bytes: usize) -> Option<String> {
    let args = ["diff", "HEAD", "--no-color", "--no-ext-diff", "--no-textconv"];
    let output = run_git(dir, &args, max_bytes)?;
    let mut bytes = output.stdout;
    if output.truncated {
        // Drop a character split by the cut rather than turn it into U+FFFD.
        if let Err(error) = std::str::from_utf8(&bytes)
            && error.error_len().is_none()
        {
            bytes.truncate(error.valid_up_to());
        }
    }
    let mut patch = String::from_utf8_lossy(&bytes).into_owned();
    truncate_on_char_boundary(&mut patch, max_bytes);
    (!patch.is_empty()).then_some(patch)
}

/// host name, OS (e.g. "Linux 6.1.0 x86_64"), cpu count, total memory (GB), user name, working directory, the program (argv[0]) and its arguments (std::env::args) — as a JSON object.
///
/// Keys: `host`, `os`, `os_release` (the distribution, e.g. "Linux (Debian GNU/Linux 12)"),
/// `cpu_count` (logical CPUs of the machine), `memory_gb` (2^30 bytes), `user`, `cwd`,
/// `program`, `args`. Every key is present; a value that cannot be read is `null`. Arguments
/// that are not valid Unicode are converted lossily.
pub fn host_and_program() -> Value {
    let refresh =
        RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing()).with_memory(MemoryRefreshKind::nothing().with_ram());
    let system = System::new_with_specifics(refresh).ok();
    let cpu_count = system
        .as_ref()
        .map(|system| system.cpus().len())
        .filter(|count| *count > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from));
    let memory_gb = system
        .as_ref()
        .map(System::total_memory)
        .filter(|bytes| *bytes > 0)
        .map(|bytes| bytes as f64 / (1024.0 * 1024.0 * 1024.0));

    let mut command_line = std::env::args_os().map(|arg| arg.to_string_lossy().into_owned());
    let program = command_line.next();
    let args: Vec<String> = command_line.collect();

    json!({
        "host": host_name(),
        "os": os_description(),
        "os_release": System::long_os_version().ok(),
        "cpu_count": cpu_count,
        "memory_gb": memory_gb,
        "user": user_name(),
        "cwd": std::env::current_dir().ok().map(|dir| dir.to_string_lossy().into_owned()),
        "program": program,
        "args": args,
    })
}

/// What a git command printed, up to the cap it was run with.
struct GitOutput {
    stdout: Vec<u8>,
    /// Whether the output went past the cap (the command was then stopped).
    truncated: bool,
}

/// Runs `git -C dir <args>`; `None` when git is missing or the command fails.
///
/// Reads at most `max_bytes` of output and stops git past that, so a huge diff costs neither
/// memory nor time. Options that could make git wait (a pager, a lock held by the user's own
/// git) are turned off; stdin is closed, so git can never prompt.
fn run_git(dir: &Path, args: &[&str], max_bytes: usize) -> Option<GitOutput> {
    let mut child = Command::new("git")
        .arg("--no-pager")
        .arg("--no-optional-locks")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = Vec::new();
    let read = match child.stdout.take() {
        // One byte past the cap tells a full read from a truncated one; dropping the pipe after
        // the read makes a git that is still writing stop.
        Some(pipe) => pipe.take(max_bytes as u64 + 1).read_to_end(&mut stdout),
        None => Ok(0),
    };
    let truncated = stdout.len() > max_bytes;
    if truncated {
        // Ignored: git may have exited on its own in between.
        let _ = child.kill();
        stdout.truncate(max_bytes);
    }
    let status = child.wait().ok()?;
    read.ok()?;
    (truncated || status.success()).then_some(GitOutput { stdout, truncated })
}

/// The URL of `origin`, else of the first remote listed.
fn remote_url(dir: &Path) -> Option<String> {
    let url = |name: &str| {
        run_git(dir, &["remote", "get-url", name], SMALL_OUTPUT_BYTES).and_then(|output| non_empty_line(&output.stdout))
    };
    url("origin").or_else(|| {
        let remotes = run_git(dir, &["remote"], SMALL_OUTPUT_BYTES)?;
        url(&non_empty_line(&remotes.stdout)?)
    })
}

/// The first line of `output`, trimmed, if it is not empty.
fn non_empty_line(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_string())
}

/// Removes credentials from a remote URL: `https://user:token@host/x` becomes `https://host/x`.
///
/// Over HTTP(S) any user part goes, since tokens are often passed as the user name; for other
/// schemes only a user part with a password goes (`ssh://git@host/x` is kept). scp-like
/// addresses (`git@host:org/repo`) carry no password and are returned unchanged.
fn strip_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let authority_start = scheme_end + "://".len();
    let after_scheme = &url[authority_start..];
    let authority_end = after_scheme.find(['/', '?', '#']).unwrap_or(after_scheme.len());
    let Some(at) = after_scheme[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let user_info = &after_scheme[..at];
    let scheme = url[..scheme_end].to_ascii_lowercase();
    let is_http = scheme == "http" || scheme == "https";
    if !is_http && !user_info.contains(':') {
        return url.to_string();
    }
    format!("{}{}", &url[..authority_start], &after_scheme[at + 1..])
}

fn truncate_on_char_boundary(text: &mut String, max_bytes: usize) {
    if text.len() <= max_bytes {
        return;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

fn host_name() -> Option<String> {
    System::host_name()
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
}

/// Kernel name, release and machine, as `uname -srm` prints them.
fn os_description() -> String {
    let kernel = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" | "ios" => "Darwin",
        "windows" => "Windows",
        "freebsd" => "FreeBSD",
        other => other,
    };
    match System::kernel_version() {
        Ok(release) => format!("{kernel} {} {}", release.trim(), std::env::consts::ARCH),
        Err(_) => format!("{kernel} {}", std::env::consts::ARCH),
    }
}

/// The login name from the environment, else the owner of this process (containers often run
/// without `USER`).
fn user_name() -> Option<String> {
    let from_environment = ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .filter_map(|variable| std::env::var(variable).ok())
        .find(|name| !name.is_empty());
    from_environment.or_else(process_owner)
}

fn process_owner() -> Option<String> {
    let pid = sysinfo::get_current_pid().ok()?;
    let mut system = System::new().ok()?;
    let kind = ProcessRefreshKind::nothing().with_user(UpdateKind::Always).without_tasks();
    system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, kind);
    let uid = system.process(pid)?.user_id()?;
    let users = sysinfo::Users::new_with_refreshed_list().ok()?;
    users.get_user_by_id(uid).map(|user| user.name().to_string())
}

/// The Python distributions installed in `paths` (the interpreter's `sys.path`), as sorted
/// `name==version` lines, read from the `*.dist-info` / `*.egg-info` folder names alone: no
/// Python code runs, so a training loop is not slowed while this is gathered.
pub fn python_packages(paths: &[std::path::PathBuf]) -> Vec<String> {
    let mut found = std::collections::BTreeMap::new();
    for dir in paths {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".dist-info").or_else(|| name.strip_suffix(".egg-info")) else {
                continue;
            };
            // `{name}-{version}[-pyX.Y]`: distribution names use `_` where they had `-`.
            let mut parts = stem.splitn(3, '-');
            if let (Some(package), Some(version)) = (parts.next(), parts.next())
                && !package.is_empty()
                && !version.is_empty()
            {
                found.entry(package.to_ascii_lowercase()).or_insert_with(|| format!("{package}=={version}"));
            }
        }
    }
    found.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Runs git in `dir` for test set-up, failing the test when it fails.
    fn git_in(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?} failed");
    }

    /// A repository on branch `main` with one commit of `train.py`.
    fn committed_repo() -> tempfile::TempDir {
        let repo = tempfile::tempdir().expect("temp dir");
        let dir = repo.path();
        git_in(dir, &["init", "--quiet", "--initial-branch=main"]);
        git_in(dir, &["config", "user.email", "test@example.com"]);
        git_in(dir, &["config", "user.name", "Test"]);
        git_in(dir, &["config", "commit.gpgsign", "false"]);
        fs::write(dir.join("train.py"), "print('hello')\n").expect("write");
        git_in(dir, &["add", "train.py"]);
        git_in(dir, &["commit", "--quiet", "--no-verify", "-m", "first"]);
        repo
    }

    #[test]
    fn a_clean_repository_reports_commit_and_branch() {
        let repo = committed_repo();
        let facts = git(repo.path()).expect("a repository");
        assert_eq!(facts.commit.len(), 40, "{facts:?}");
        assert!(facts.commit.bytes().all(|byte| byte.is_ascii_hexdigit()), "{facts:?}");
        assert_eq!(facts.branch.as_deref(), Some("main"));
        assert_eq!(facts.remote, None);
        assert!(!facts.dirty);
        assert_eq!(git_diff(repo.path(), 1 << 20), None);
    }

    #[test]
    fn a_subdirectory_belongs_to_the_enclosing_repository() {
        let repo = committed_repo();
        let subdirectory = repo.path().join("src");
        fs::create_dir(&subdirectory).expect("mkdir");
        assert_eq!(git(&subdirectory), git(repo.path()));
    }

    #[test]
    fn modified_and_staged_changes_make_it_dirty_and_appear_in_the_diff() {
        let repo = committed_repo();
        let dir = repo.path();
        fs::write(dir.join("train.py"), "print('changed line')\n").expect("write");
        assert!(git(dir).expect("a repository").dirty);
        let diff = git_diff(dir, 1 << 20).expect("a diff");
        assert!(diff.contains("+print('changed line')"), "{diff}");
        assert!(diff.contains("-print('hello')"), "{diff}");

        fs::write(dir.join("model.py"), "staged = True\n").expect("write");
        git_in(dir, &["add", "model.py"]);
        let diff = git_diff(dir, 1 << 20).expect("a diff");
        assert!(diff.contains("+staged = True"), "{diff}");
    }

    #[test]
    fn untracked_files_alone_do_not_make_it_dirty() {
        let repo = committed_repo();
        fs::write(repo.path().join("notes.txt"), "scratch\n").expect("write");
        assert!(!git(repo.path()).expect("a repository").dirty);
        assert_eq!(git_diff(repo.path(), 1 << 20), None);
    }

    #[test]
    fn the_diff_is_capped_on_a_character_boundary() {
        let repo = committed_repo();
        fs::write(repo.path().join("train.py"), "é".repeat(10_000)).expect("write");
        let full = git_diff(repo.path(), 1 << 20).expect("a diff");
        assert!(full.len() > 20_000);
        for cap in [100, 101, 102, 5_000] {
            let capped = git_diff(repo.path(), cap).expect("a diff");
            assert!(capped.len() <= cap && capped.len() >= cap - 1, "cap {cap}: {} bytes", capped.len());
            assert!(full.starts_with(&capped));
        }
    }

    #[test]
    fn remote_and_detached_head() {
        let repo = committed_repo();
        let dir = repo.path();
        git_in(dir, &["remote", "add", "upstream", "https://someone:secret@example.com/org/fork.git"]);
        assert_eq!(git(dir).expect("a repository").remote.as_deref(), Some("https://example.com/org/fork.git"));
        git_in(dir, &["remote", "add", "origin", "git@github.com:org/repo.git"]);
        assert_eq!(git(dir).expect("a repository").remote.as_deref(), Some("git@github.com:org/repo.git"));

        git_in(dir, &["checkout", "--quiet", "--detach"]);
        let facts = git(dir).expect("a repository");
        assert_eq!(facts.branch, None);
        assert_eq!(facts.commit.len(), 40);
    }

    #[test]
    fn outside_a_repository_there_is_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(git(dir.path()), None);
        assert_eq!(git_diff(dir.path(), 1 << 20), None);
        assert_eq!(git(&dir.path().join("does-not-exist")), None);
    }

    #[test]
    fn a_repository_without_commits_has_no_git_facts() {
        let dir = tempfile::tempdir().expect("temp dir");
        git_in(dir.path(), &["init", "--quiet"]);
        assert_eq!(git(dir.path()), None);
        assert_eq!(git_diff(dir.path(), 1 << 20), None);
    }

    #[test]
    fn credentials_are_stripped_from_remote_urls() {
        let cases = [
            ("https://user:token@host/x", "https://host/x"),
            ("https://ghp_token@github.com/org/repo.git", "https://github.com/org/repo.git"),
            ("HTTP://user:p%40ss@host:8080/x?y=1", "HTTP://host:8080/x?y=1"),
            ("https://user:p@ss@host/x", "https://host/x"),
            ("ssh://git:pw@host:22/org/repo.git", "ssh://host:22/org/repo.git"),
            ("ssh://git@host:22/org/repo.git", "ssh://git@host:22/org/repo.git"),
            ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
            ("https://host/path/with@sign", "https://host/path/with@sign"),
            ("/srv/git/repo.git", "/srv/git/repo.git"),
        ];
        for (url, expected) in cases {
            assert_eq!(strip_credentials(url), expected, "{url}");
        }
    }

    #[test]
    fn host_and_program_has_every_key() {
        let info = host_and_program();
        for key in ["host", "os", "os_release", "cpu_count", "memory_gb", "user", "cwd", "program", "args"] {
            assert!(info.get(key).is_some(), "missing {key} in {info}");
        }
        assert!(info["host"].as_str().is_some_and(|host| !host.is_empty()), "{info}");
        assert!(info["cpu_count"].as_u64().is_some_and(|count| count >= 1), "{info}");
        assert!(info["memory_gb"].as_f64().is_some_and(|gb| gb > 0.0), "{info}");
        assert!(info["program"].as_str().is_some_and(|program| !program.is_empty()), "{info}");
        assert!(info["args"].is_array(), "{info}");
        let os = info["os"].as_str().unwrap_or_default();
        assert!(os.ends_with(std::env::consts::ARCH), "{info}");
        if cfg!(target_os = "linux") {
            assert!(os.starts_with("Linux "), "{info}");
        }
    }

    #[test]
    fn the_process_owner_is_found_without_the_environment() {
        if cfg!(unix) {
            assert!(process_owner().is_some_and(|name| !name.is_empty()));
        }
    }

    #[test]
    fn python_packages_come_from_dist_info_names() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "numpy-2.1.3.dist-info",
            "typing_extensions-4.12.2.dist-info",
            "old_pkg-1.0-py3.11.egg-info",
            "numpy",
            "README",
        ] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        let missing = dir.path().join("missing");
        assert_eq!(
            python_packages(&[dir.path().to_path_buf(), missing]),
            ["numpy==2.1.3", "old_pkg==1.0", "typing_extensions==4.12.2"]
        );
    }
}
