"""Fixtures for the SDK tests: a real `heron server` process on port 0, the SDK's environment
pointed at it (and at temporary folders, never the real home), and helpers to run training code
in a subprocess and to poll the server with a deadline.

The server binary comes from HERON_TEST_SERVER_BIN (`make test-python` sets it), else
target/debug/heron at the repository root.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import zlib
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
API_KEY = "heron_" + "0123456789abcdef" * 2 + "01234567"
ENTITY = "admin"  # the user the server creates on first start
LISTENING = re.compile(r"^heron server listening on (http://127\.0\.0\.1:(\d+)) \(data: .*\)$")

assert len(API_KEY) == len("heron_") + 40


def server_bin() -> Path:
    path = Path(os.environ.get("HERON_TEST_SERVER_BIN") or REPO / "target" / "debug" / "heron")
    if not path.is_file():
        pytest.exit(f"no heron server binary at {path}; build it with `cargo build -p heron-cli`", returncode=2)
    return path


def free_port() -> int:
    """A port nothing listens on (the OS just handed it out and it was closed again)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = "condition") -> Any:
    """Polls `check` until it returns something truthy (returned) or raises AssertionError at the deadline.
    Exceptions from `check` count as "not yet" (the server may be restarting)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
            if last:
                return last
        except Exception as error:  # noqa: BLE001 - polled again until the deadline
            last = error
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last!r}")
        time.sleep(interval)


class Server:
    """A `heron server` process with its own data folder. `kill()` and `restart()` keep the port
    and the data, as an operator restarting it would."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = root
        self.data = root / "data"
        self.port = port
        self.api_key = API_KEY
        self.process: Optional[subprocess.Popen] = None
        self._starts = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
        self.env.update(
            HERON_BOOTSTRAP_API_KEY=API_KEY,
            HERON_LOG="warn",
            HOME=str(root / "home"),
            XDG_CONFIG_HOME=str(root / "config"),
            XDG_DATA_HOME=str(root / "share"),
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "Server":
        assert self.process is None or self.process.poll() is not None, "already running"
        deadline = time.monotonic() + timeout
        while True:
            self._starts += 1
            out = self.root / f"stdout-{self._starts}.txt"
            err = self.root / f"stderr-{self._starts}.txt"
            command = [str(server_bin()), "server", "--host", "127.0.0.1", "--port", str(self.port)]
            command += ["--data", str(self.data)]
            with open(out, "wb") as stdout, open(err, "wb") as stderr:
                self.process = subprocess.Popen(
                    command, env=self.env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
                )
            while True:
                for line in out.read_text(errors="replace").splitlines():
                    found = LISTENING.match(line)
                    if found:
                        self.port = int(found.group(2))
                        assert found.group(1) == self.base_url
                        return self
                if self.process.poll() is not None:
                    break
                if time.monotonic() >= deadline:
                    self.stop()
                    why = err.read_text(errors="replace")
                    raise AssertionError(f"heron server did not start in {timeout} s: {why}")
                time.sleep(0.02)
            # It exited. Right after a kill the port can be busy for a moment: try again.
            why = err.read_text(errors="replace")
            if "cannot listen" not in why or time.monotonic() >= deadline:
                raise AssertionError(f"heron server exited with {self.process.returncode}: {why}")
            time.sleep(0.1)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Sends `sig` and waits for the process to end."""
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=30)

    def restart(self, sig: int = signal.SIGKILL) -> "Server":
        """Kills the server (if running) and starts it again on the same port and data folder."""
        if self.process is not None and self.process.poll() is None:
            self.kill(sig)
        return self.start()

    def stop(self) -> None:
        """SIGTERM, then wait for a graceful stop (SIGKILL after 15 s)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    def get(self, path: str) -> Any:
        """GET /api/v1{path} with the API key; the decoded JSON answer."""
        request = urllib.request.Request(
            f"{self.base_url}/api/v1{path}", headers={"Authorization": f"Bearer {self.api_key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def run_path(self, project: str, run_id: str, entity: str = ENTITY) -> str:
        return f"/projects/{entity}/{project}/runs/{run_id}"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One server shared by the tests that do not stop it; each test uses its own project."""
    s = Server(tmp_path_factory.mktemp("server")).start()
    yield s
    s.stop()


@pytest.fixture
def make_server(tmp_path: Path):
    """Starts servers of the test's own (to kill, restart or start late); all stopped at the end."""
    started: list = []

    def make(port: int = 0, start: bool = True) -> Server:
        s = Server(tmp_path / f"server-{len(started)}", port)
        s.root.mkdir(parents=True)
        started.append(s)
        return s.start() if start else s

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def project(request: pytest.FixtureRequest) -> str:
    """A project name of the test's own, so tests sharing the server do not see each other's runs."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name).strip("-.")
    return name[:48] + f"-{zlib.crc32(request.node.nodeid.encode()) % 10**6}"


@pytest.fixture(autouse=True)
def heron_env(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Points the SDK at the shared server and at the test's temporary folder; finishes any run a
    test leaves active (heron.sdk keeps the current run in a module global)."""
    for name in list(os.environ):
        if name.startswith("HERON_") or name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "TORCHELASTIC_RUN_ID"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HERON_BASE_URL", server.base_url)
    monkeypatch.setenv("HERON_API_KEY", server.api_key)
    monkeypatch.setenv("HERON_DIR", str(tmp_path / "heron"))
    monkeypatch.setenv("HERON_SYSTEM_INTERVAL", "0")
    monkeypatch.setenv("HERON_GIT", "0")
    monkeypatch.setenv("HERON_PACKAGES", "0")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.chdir(tmp_path)
    yield
    from heron import sdk

    if sdk._current is not None:
        sdk._current.finish()
    sdk._current = None


@pytest.fixture
def api():
    """heron.Api() for the shared server (from the environment the test set)."""
    import heron

    return heron.Api()


def run_python(
    code: str, *, env: Optional[dict] = None, timeout: float = 60.0, check: bool = True
) -> subprocess.CompletedProcess:
    """Runs `code` (dedented) in a fresh interpreter with the test's environment (plus `env`)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit code {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def rows_of(run: Any) -> list:
    """Every history row of an ApiRun, exactly (scan_history, unsampled)."""
    return list(run.scan_history())
