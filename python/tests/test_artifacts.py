"""Artifacts and the model registry against the real server: deduplication across versions and
projects, uploads that send only what changed, an interrupted upload resumed, an interrupted
download that leaves nothing half-written, the download cache, aliases, lineage both ways, the
registry's audit trail, references, path escapes, and the `heron artifact` / `heron model`
commands."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import pytest

import heron
from conftest import ENTITY, Server, server_bin, wait_until

MIB = 1024 * 1024


# -- helpers ------------------------------------------------------------------------------------


def call(server: Server, method: str, path: str, body: Any = None, raw: Optional[bytes] = None, key: bool = True) -> tuple:
    """A request to /api/v1{path} (or a server path from a signed URL, sent without the key
    when `key` is false); (status, decoded answer)."""
    url = path if path.startswith("/api/") else f"/api/v1{path}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    all_headers = {"Authorization": f"Bearer {server.api_key}"} if key else {}
    request = urllib.request.Request(f"{server.base_url}{url}", data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read()
            return answer.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, (json.loads(text) if text else None)


def blob_bytes(server: Server) -> int:
    status, totals = call(server, "GET", "/admin/blobs")
    assert status == 200, totals
    return totals["bytes"]


def write_files(root: Path, count: int, size: int, seed: str) -> dict:
    """`count` files of `size` distinct bytes each under root; returns name -> sha256."""
    root.mkdir(parents=True, exist_ok=True)
    digests = {}
    for i in range(count):
        data = hashlib.sha256(f"{seed}-{i}".encode()).digest() * (size // 32) + os.urandom(size % 32)
        (root / f"part-{i:03}.bin").write_bytes(data)
        digests[f"part-{i:03}.bin"] = hashlib.sha256(data).hexdigest()
    return digests


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(*args: str, env: Optional[dict] = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(server_bin()), *args], env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        raise AssertionError(f"heron {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


# -- uploads ------------------------------------------------------------------------------------


def test_versions_and_projects_store_each_file_once(project: str, server: Server, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_files(data, 30, 64 * 1024, seed=project)
    total = 30 * 64 * 1024
    before = blob_bytes(server)

    with heron.init(project=project, id="prep-1") as run:
        artifact = heron.Artifact("corpus", type="dataset", description="30 parts", metadata={"parts": 30})
        artifact.add_dir(data)
        run.log_artifact(artifact, aliases=["raw"])
    assert artifact.version == "v0"
    assert sorted(artifact.aliases) == ["latest", "raw"]
    assert artifact.file_count == 30 and artifact.size == total
    assert artifact.upload_report["uploaded_bytes"] == total
    assert artifact.upload_report["deduplicated_bytes"] == 0
    assert blob_bytes(server) - before == total

    # One changed file of 30: only it is sent, and the store grows by it alone.
    (data / "part-007.bin").write_bytes(os.urandom(64 * 1024))
    with heron.init(project=project, id="prep-2") as run:
        changed = run.log_artifact(str(data), name="corpus", type="dataset")
    assert changed.version == "v1"
    assert changed.upload_report["uploaded_bytes"] == 64 * 1024
    assert changed.upload_report["deduplicated_bytes"] == total - 64 * 1024
    assert changed.upload_report["uploaded_blobs"] == 1
    assert blob_bytes(server) - before == total + 64 * 1024
    assert changed.digest != artifact.digest

    # The same contents in another project: nothing is sent, nothing more is stored.
    other = f"{project}-b"
    with heron.init(project=other, id="copy") as run:
        copy = run.log_artifact(str(data), name="corpus-copy", type="dataset")
    assert copy.upload_report["uploaded_bytes"] == 0
    assert copy.upload_report["deduplicated_bytes"] == total
    assert blob_bytes(server) - before == total + 64 * 1024
    storage = heron.Api().storage(f"{ENTITY}/{project}")
    assert storage["stored_bytes"] == total + 64 * 1024
    assert storage["logical_bytes"] == 2 * total

    # Logging identical contents again makes no new version; its aliases move to the old one.
    with heron.init(project=project, id="prep-3") as run:
        again = heron.Artifact("corpus", type="dataset")
        again.add_dir(data)
        run.log_artifact(again, aliases=["again"])
    assert again.version == "v1" and again.created is False
    assert "again" in again.aliases
    assert again.upload_report["uploaded_bytes"] == 0


def test_an_interrupted_upload_resumes_with_the_parts_left(project: str, server: Server, tmp_path: Path) -> None:
    big = tmp_path / "weights.bin"
    big.write_bytes(os.urandom(40 * MIB))  # three parts: 16 + 16 + 8 MiB
    sha = sha_of(big)

    # A first upload that stopped after part 0, sent with the raw API.
    status, answer = call(server, "POST", f"/projects/{ENTITY}/{project}/blobs/missing", {"blobs": [{"sha256": sha, "size": 40 * MIB}]})
    assert status == 200, answer
    (blob,) = answer["missing"]
    assert (blob["parts"], blob["part_size"], blob["received"]) == (3, 16 * MIB, [])
    with big.open("rb") as f:
        first = f.read(16 * MIB)
    status, part = call(server, "PUT", blob["upload_url"] + "&part=0", raw=first, key=False)
    assert status == 200, part
    assert part["stored"] is False and part["received"] == [0]
    status, answer = call(server, "POST", f"/projects/{ENTITY}/{project}/blobs/missing", {"blobs": [{"sha256": sha, "size": 40 * MIB}]})
    assert answer["missing"][0]["received"] == [0]

    # A new process logs the artifact: it sends parts 1 and 2 only.
    with heron.init(project=project, id="train") as run:
        model = heron.Artifact("model", type="model")
        model.add_file(big)
        run.log_artifact(model)
    assert model.upload_report["resumed_bytes"] == 16 * MIB
    assert model.upload_report["uploaded_bytes"] == 24 * MIB
    status, answer = call(server, "POST", f"/projects/{ENTITY}/{project}/blobs/missing", {"blobs": [{"sha256": sha, "size": 40 * MIB}]})
    assert answer["missing"] == []

    root = Path(heron.Api().artifact(f"{project}/model:latest").download(tmp_path / "out"))
    assert sha_of(root / "weights.bin") == sha


def test_a_killed_upload_process_is_finished_by_the_next(project: str, server: Server, tmp_path: Path) -> None:
    """A real interruption: the uploading process is killed once some parts arrived; running it
    again sends only the parts the server is missing."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(100 * MIB))  # 7 parts
    sha = sha_of(big)
    code = f"""
        import heron
        with heron.init(project={project!r}, id="killed") as run:
            a = heron.Artifact("big", type="model")
            a.add_file({str(big)!r})
            run.log_artifact(a)
            print(a.upload_report, flush=True)
    """
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def some_parts_arrived() -> bool:
        _, answer = call(server, "POST", f"/projects/{ENTITY}/{project}/blobs/missing", {"blobs": [{"sha256": sha, "size": 100 * MIB}]})
        return bool(answer["missing"] and answer["missing"][0]["received"]) or process.poll() is not None

    wait_until(some_parts_arrived, timeout=60, interval=0.01, what="a first part to arrive")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    _, answer = call(server, "POST", f"/projects/{ENTITY}/{project}/blobs/missing", {"blobs": [{"sha256": sha, "size": 100 * MIB}]})
    received = answer["missing"][0]["received"] if answer["missing"] else list(range(7))
    print("parts received before the kill:", received, "missing:", bool(answer["missing"]))
    with heron.init(project=project, id="again") as run:
        a = heron.Artifact("big", type="model")
        a.add_file(big)
        run.log_artifact(a)
    part_bytes = sum(min(16 * MIB, 100 * MIB - k * 16 * MIB) for k in received)
    assert a.upload_report["resumed_bytes"] == (part_bytes if answer["missing"] else 0)
    assert a.upload_report["uploaded_bytes"] + a.upload_report["resumed_bytes"] + a.upload_report["deduplicated_bytes"] == 100 * MIB
    root = Path(a.download(tmp_path / "out"))
    assert sha_of(root / "big.bin") == sha


# -- downloads ----------------------------------------------------------------------------------


class StallingProxy:
    """Forwards to the real server, except that blob downloads send half their bytes and then
    hang, as a network that dies mid-transfer."""

    def __init__(self, upstream: Server) -> None:
        self.release = threading.Event()
        self.stalled = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection("127.0.0.1", upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "accept-encoding")}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command == "GET" and "/blobs/" in self.path and answer.status == 200:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    proxy.stalled.set()
                    proxy.release.wait(60)
                    return
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()


def test_an_interrupted_download_leaves_no_file_and_a_retry_verifies(project: str, server: Server, tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(os.urandom(8 * MIB))
    with heron.init(project=project, id="train") as run:
        run.log_artifact(str(weights), name="model", type="model")

    root = tmp_path / "download"
    proxy = StallingProxy(server)
    try:
        code = f"""
            import heron
            heron.Api().artifact({f"{ENTITY}/{project}/model:latest"!r}).download({str(root)!r})
        """
        env = {**os.environ, "HERON_BASE_URL": proxy.url}
        process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, stderr=subprocess.PIPE)
        assert proxy.stalled.wait(60), "the download never started"
        partial = root / ".weights.bin.heron-download"
        wait_until(lambda: partial.exists() and partial.stat().st_size > 0, what="bytes in the temporary file")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        proxy.close()
    assert not (root / "weights.bin").exists(), "nothing appears under the final name before it is verified"
    assert partial.exists(), "the killed process left its temporary file (the next try removes it)"

    artifact = heron.Api().artifact(f"{ENTITY}/{project}/model:latest")
    assert artifact.download(root) == str(root)
    assert sha_of(root / "weights.bin") == sha_of(weights)
    assert not partial.exists()
    assert sorted(p.name for p in root.iterdir()) == ["weights.bin"]


def test_ctrl_c_stops_a_stalled_download_at_once(project: str, server: Server, tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(os.urandom(2 * MIB))
    with heron.init(project=project, id="train") as run:
        run.log_artifact(str(weights), name="model", type="model")
    root = tmp_path / "download"
    proxy = StallingProxy(server)
    try:
        code = f"""
            import heron
            heron.Api().artifact({f"{ENTITY}/{project}/model:latest"!r}).download({str(root)!r})
        """
        env = {**os.environ, "HERON_BASE_URL": proxy.url}
        process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, stderr=subprocess.PIPE, text=True)
        assert proxy.stalled.wait(60), "the download never started"
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    finally:
        proxy.close()
    assert process.returncode != 0 and "KeyboardInterrupt" in err, err
    assert not (root / "weights.bin").exists()


def test_downloads_come_from_the_cache_the_second_time(project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("HERON_CACHE_DIR", str(cache))
    data = tmp_path / "data"
    digests = write_files(data, 5, 10_000, seed=project)
    with heron.init(project=project, id="p") as run:
        run.log_artifact(str(data), name="small", type="dataset")

    first = heron.Api().artifact(f"{project}/small")
    first.download(tmp_path / "a")
    assert first.last_download["downloaded_bytes"] == 50_000 and first.last_download["from_cache"] == 0
    second = heron.Api().artifact(f"{project}/small:v0")
    second.download(tmp_path / "b")
    assert second.last_download["from_cache"] == 5 and second.last_download["downloaded_bytes"] == 0
    for name, digest in digests.items():
        assert sha_of(tmp_path / "b" / name) == digest
    # Downloading over a complete folder finds the files in place.
    second.download(tmp_path / "b")
    assert second.last_download["already_present"] == 5

    assert heron.cache_cleanup("20kB") == (3, 30_000)
    assert heron.cache_cleanup(0) == (2, 20_000)
    assert heron.cache_cleanup(0) == (0, 0)
    # Bounded by HERON_CACHE_SIZE after each download.
    monkeypatch.setenv("HERON_CACHE_SIZE", "25KB")
    third = heron.Api().artifact(f"{project}/small")
    third.download(tmp_path / "c")
    cached = [p for p in (cache / "blobs").rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in cached) <= 25_000
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == sorted(digests)


def test_references_are_recorded_not_uploaded(project: str, tmp_path: Path) -> None:
    local = tmp_path / "shared" / "labels.csv"
    local.parent.mkdir()
    local.write_text("id,label\n1,cat\n")
    with heron.init(project=project, id="refs") as run:
        artifact = heron.Artifact("labels", type="dataset")
        artifact.add_reference(f"file://{local}")
        artifact.add_reference("s3://bucket/datasets/images.tar", digest="etag-123")
        run.log_artifact(artifact)
    assert artifact.upload_report["uploaded_bytes"] == 0
    files = {f["path"]: f for f in artifact.files()}
    assert files["labels.csv"]["reference"] == f"file://{local}"
    assert files["labels.csv"]["digest"] == sha_of(local)
    assert files["images.tar"]["reference"] == "s3://bucket/datasets/images.tar"
    assert files["images.tar"]["digest"] == "etag-123"

    with pytest.warns(UserWarning, match="images.tar"):
        root = Path(artifact.download(tmp_path / "out"))
    assert (root / "labels.csv").read_text() == "id,label\n1,cat\n"
    assert not (root / "images.tar").exists()
    assert [f["path"] for f in artifact.last_download["skipped_references"]] == ["images.tar"]

    # A referenced file that changed since it was logged is refused, not copied.
    local.write_text("id,label\n1,dog\n")
    with pytest.raises(heron.HeronError, match="changed"):
        artifact.download(tmp_path / "again")
    assert not (tmp_path / "again" / "labels.csv").exists()


# -- aliases, lineage, registry -----------------------------------------------------------------


def test_aliases_move_between_versions(project: str, server: Server, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one")
    with heron.init(project=project, id="r1") as run:
        v0 = run.log_artifact(str(tmp_path / "a.txt"), name="notes", type="text", aliases=["best"])
    (tmp_path / "a.txt").write_text("two")
    with heron.init(project=project, id="r2") as run:
        v1 = run.log_artifact(str(tmp_path / "a.txt"), name="notes", type="text", aliases=["best"])
    assert (v0.version, v1.version) == ("v0", "v1")
    api = heron.Api()
    assert api.artifact(f"{project}/notes:best").version == "v1"
    assert api.artifact(f"{project}/notes:latest").version == "v1"
    assert "best" not in api.artifact(f"{project}/notes:v0").aliases

    status, moved = call(server, "PUT", f"/projects/{ENTITY}/{project}/artifacts/notes/aliases/best", {"version": "v0"})
    assert status == 200 and "best" in moved["aliases"]
    assert api.artifact(f"{project}/notes:best").version == "v0"
    best = Path(api.artifact(f"{project}/notes:best").download(tmp_path / "best"))
    assert (best / "a.txt").read_text() == "one"
    versions = api.artifact_versions("text", f"{ENTITY}/{project}/notes")
    assert [v.version for v in versions] == ["v1", "v0"]
    assert versions[0].aliases == ["latest"]

    # A logged version's description and metadata can change; its files cannot.
    v0.description = "the first"
    v0.metadata["reviewed"] = True
    v0.save()
    again = api.artifact(f"{project}/notes:v0")
    assert (again.description, again.metadata) == ("the first", {"reviewed": True})
    with pytest.raises(ValueError, match="cannot change"):
        again.add_file(tmp_path / "a.txt")


def test_lineage_goes_both_ways(project: str, tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("x,y\n1,2\n")
    with heron.init(project=project, id="prepare") as run:
        run.log_artifact(str(tmp_path / "train.csv"), name="train-data", type="dataset")
    with heron.init(project=project, id="fit") as run:
        data = run.use_artifact("train-data:latest")
        assert data.run == "prepare"
        root = Path(data.download(tmp_path / "data"))
        (tmp_path / "model.pt").write_bytes((root / "train.csv").read_bytes() * 3)
        model = run.log_artifact(str(tmp_path / "model.pt"), name="classifier", type="model")

    up = model.lineage("up")
    ids = {n["id"] for n in up["nodes"]}
    assert f"run:{ENTITY}/{project}/fit" in ids
    assert f"artifact:{ENTITY}/{project}/train-data:v0" in ids
    assert f"run:{ENTITY}/{project}/prepare" in ids
    edges = {(e["from"], e["to"], e["kind"]) for e in up["edges"]}
    assert (f"artifact:{ENTITY}/{project}/train-data:v0", f"run:{ENTITY}/{project}/fit", "used") in edges
    assert (f"run:{ENTITY}/{project}/fit", f"artifact:{ENTITY}/{project}/classifier:v0", "produced") in edges

    # A run of another project uses it by its full name.
    other = f"{project}-eval"
    with heron.init(project=other, id="evaluate") as run:
        assert run.use_artifact(f"{ENTITY}/{project}/train-data:v0").version == "v0"

    down = heron.Api().artifact(f"{project}/train-data:v0").lineage("down")
    ids = {n["id"] for n in down["nodes"]}
    assert f"artifact:{ENTITY}/{project}/classifier:v0" in ids
    assert f"run:{ENTITY}/{other}/evaluate" in ids
    assert f"run:{ENTITY}/{project}/prepare" not in ids, "down does not go back to the producer"


def test_the_registry_keeps_an_audit_trail(project: str, tmp_path: Path) -> None:
    model_name = f"reg-{project}"[:100]
    versions = []
    for i in range(2):
        (tmp_path / "m.bin").write_bytes(os.urandom(1000))
        with heron.init(project=project, id=f"train-{i}") as run:
            versions.append(run.log_artifact(str(tmp_path / "m.bin"), name="clf", type="model"))
    api = heron.Api()
    registered = api.create_registered_model(model_name)
    first = registered.link(versions[0], aliases=["staging"])
    assert first["version"] == "v0" and first["artifact"] == f"{ENTITY}/{project}/clf:v0"
    with heron.init(project=project, id="promote") as run:
        second = run.link_artifact(versions[1], f"model-registry/{model_name}", aliases=["staging"])
    assert second["version"] == "v1"
    registered = api.registered_model(model_name)
    assert registered.aliases == {"staging": "v1"}
    registered.set_alias("production", "v0")
    registered.set_alias("production", "v1")
    registered.remove_alias("staging")
    registered.unlink("v0")
    assert registered.aliases == {"production": "v1"}
    assert [v["version"] for v in registered.versions] == ["v1"]

    trail = registered.audit()
    steps = [(e["action"], e.get("version"), e.get("alias"), e.get("previous_version"), e.get("artifact")) for e in trail]
    assert steps[0][0] == "create"
    assert ("link", "v0", None, None, f"{ENTITY}/{project}/clf:v0") in [(a, v, None, None, art) for a, v, _, _, art in steps]
    assert ("link", "v1", None, None, f"{ENTITY}/{project}/clf:v1") in [(a, v, None, None, art) for a, v, _, _, art in steps]
    assert ("alias_set", "v0", "production", None) in [s[:4] for s in steps], "a new alias"
    assert ("alias_set", "v1", "production", "v0") in [s[:4] for s in steps], "an alias moved, with where it was"
    assert ("alias_remove", "staging") in [(s[0], s[2]) for s in steps]
    actions = [s[0] for s in steps]
    assert actions.index("unlink") > actions.index("alias_remove")
    assert steps[actions.index("unlink")][1] == "v0"
    assert all(e["user"] == ENTITY for e in trail)
    stamps = [e["at"] for e in trail]
    assert stamps == sorted(stamps), "oldest first"

    # A version linked in the registry cannot be deleted from under it.
    with pytest.raises(heron.HeronError) as refused:
        api._client.request("DELETE", f"/api/v1/projects/{ENTITY}/{project}/artifacts/clf/versions/v1")
    assert refused.value.status == 409


def test_paths_that_escape_are_refused_by_client_and_server(project: str, server: Server, tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    artifact = heron.Artifact("escape", type="dataset")
    for bad in ["../x", "/etc/passwd", "a/../../b", "a\\b", "a//b"]:
        with pytest.raises(ValueError, match="artifact path"):
            artifact.add_file(tmp_path / "x", name=bad)
        with pytest.raises(ValueError):
            artifact.add_dir(tmp_path, name=bad)
    with pytest.raises(ValueError):
        heron.Artifact("../escape", type="dataset")

    sha = sha_of(tmp_path / "x")
    with heron.init(project=project, id="ok") as run:
        run.log_artifact(str(tmp_path / "x"), name="fine", type="dataset")
    for bad in ["../x", "/etc/passwd", "a/../../b"]:
        body = {"type": "dataset", "files": [{"path": bad, "size": 1, "sha256": sha}]}
        status, answer = call(server, "POST", f"/projects/{ENTITY}/{project}/artifacts/escape/versions", body)
        assert status == 422, (bad, answer)
        assert answer["error"]["kind"] == "invalid_argument"


def test_an_offline_run_keeps_its_artifacts_for_sync(project: str, tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("logged offline")
    run = heron.init(project=project, id="off", mode="offline")
    with pytest.warns(UserWarning, match="heron sync"):
        staged = run.log_artifact(str(tmp_path / "x.txt"), name="offline-data", type="dataset", aliases=["first"])
    assert staged.staged and staged.version is None
    assert staged.upload_report["files"] == 1
    with pytest.raises(heron.HeronError, match="online run"):
        run.use_artifact("offline-data:latest")
    with pytest.warns(UserWarning, match="heron sync"):
        run.finish()
    api = heron.Api()
    with pytest.raises(heron.HeronError):
        api.artifact(f"{project}/offline-data")

    results = heron.sync()
    assert [r["status"] for r in results] == ["complete"], results
    logged = api.artifact(f"{project}/offline-data:first")
    assert (logged.version, logged.run) == ("v0", "off")
    root = Path(logged.download(tmp_path / "out"))
    assert (root / "x.txt").read_text() == "logged offline"
    assert heron.sync() == [], "nothing left: the run and its artifact are done"
    assert len(api.artifacts(None, f"{ENTITY}/{project}/offline-data")) == 1


# -- the command line ---------------------------------------------------------------------------


def test_cli_put_get_ls_rm_and_models(project: str, server: Server, tmp_path: Path) -> None:
    data = tmp_path / "images"
    digests = write_files(data, 4, 3000, seed=project)
    env = {"HERON_PROJECT": project}
    out = cli("artifact", "put", str(data), "--alias", "first", "--metadata", '{"n": 4}', env=env).stdout.splitlines()
    assert out[0] == f"{ENTITY}/{project}/images:v0"
    assert out[1].startswith("4 files, 11.7 KiB uploaded, 0 B already stored"), out
    (data / "part-000.bin").write_bytes(b"changed")
    out = cli("artifact", "put", str(data), "--name", "images", "--description", "second", env=env).stdout.splitlines()
    assert out[0] == f"{ENTITY}/{project}/images:v1"
    assert out[1].startswith("4 files, 7 B uploaded, 8.8 KiB already stored"), out

    listing = cli("artifact", "ls", env=env).stdout
    assert "images" in listing and "2 versions" in listing
    versions = cli("artifact", "ls", "images", env=env).stdout.splitlines()
    assert versions[0].startswith("v1") and "latest" in versions[0]
    assert versions[1].startswith("v0") and "first" in versions[1]

    root = tmp_path / "got"
    out = cli("artifact", "get", "images:first", "--root", str(root), env=env).stdout
    assert f"images:v0 -> {root}" in out
    assert {p.name: sha_of(p) for p in root.iterdir()} == digests
    # The default folder is ./artifacts/NAME-vN (the test runs in tmp_path).
    cli("artifact", "get", f"{ENTITY}/{project}/images", env={"HERON_PROJECT": "elsewhere"})
    assert (tmp_path / "artifacts" / "images-v1" / "part-000.bin").read_bytes() == b"changed"

    assert cli("model", "create", f"cli-{project}"[:100], env=env).returncode == 0
    out = cli("model", "link", f"cli-{project}"[:100], "images:v1", "--alias", "staging", env=env).stdout
    assert f"-> {ENTITY}/{project}/images:v1" in out
    cli("model", "alias", f"cli-{project}"[:100], "production", "v0", env=env)
    audit = cli("model", "audit", f"cli-{project}"[:100], env=env).stdout
    assert "create" in audit and "link" in audit and "alias_set" in audit

    refused = cli("artifact", "rm", "images:v1", env=env, check=False)
    assert refused.returncode != 0 and "409" in refused.stderr
    cli("artifact", "rm", "images:v0", env=env)
    assert [line.split()[0] for line in cli("artifact", "ls", "images", env=env).stdout.splitlines()] == ["v1"]

    no_project = cli("artifact", "ls", check=False, env={"HERON_PROJECT": ""})
    assert no_project.returncode != 0 and "HERON_PROJECT" in no_project.stderr
    cache = cli("artifact", "cache", "cleanup", "--max-size", "0").stdout
    assert cache.startswith("Removed ")

