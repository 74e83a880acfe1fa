"""The server away while a run logs: down at init and started later, or SIGKILLed mid-run and
restarted on the same port and data. Every row arrives exactly once."""

from __future__ import annotations

import json
import threading
import time
import warnings
from pathlib import Path

import pytest

import heron
from conftest import ENTITY, free_port, wait_until

ROWS = 300


def stored_steps(api: heron.Api, path: str) -> list:
    return [row["_step"] for row in api.run(path).scan_history()]


def test_server_down_at_init_then_started(project: str, make_server, monkeypatch: pytest.MonkeyPatch) -> None:
    late = make_server(port=free_port(), start=False)
    monkeypatch.setenv("HERON_BASE_URL", late.base_url)
    with pytest.warns(UserWarning, match="cannot reach the Heron server"):
        run = heron.init(project=project, id="late", config={"lr": 0.05}, settings=heron.Settings(finish_timeout=30))
    started = time.perf_counter()
    for i in range(ROWS):
        heron.log({"loss": 1.0 / (i + 1), "i": i})
    assert time.perf_counter() - started < 1.0, "log() never waits for the server"
    print("logged while the server was down")

    late.start()
    api = heron.Api()
    path = f"{ENTITY}/{project}/late"
    wait_until(lambda: len(stored_steps(api, path)) == ROWS, timeout=20, what="the rows logged while it was down")
    assert api.run(path).config == {"lr": 0.05}

    for i in range(ROWS, ROWS + 10):
        heron.log({"loss": 1.0 / (i + 1), "i": i})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.finish()
    assert not [w for w in caught if "heron sync" in str(w.message)], "finish reports everything uploaded"
    assert json.loads((Path(run.dir) / "upload.json").read_text())["finished"] is True
    stored = api.run(path)
    assert stored.state == "finished"
    rows = list(stored.scan_history())
    assert [r["_step"] for r in rows] == list(range(ROWS + 10))
    assert [r["i"] for r in rows] == list(range(ROWS + 10))
    assert "logged while the server was down" in [line["text"] for line in stored.console()]
    assert heron.sync([run.dir])[0]["rows"] == 0, "nothing is left for sync"


def test_server_killed_mid_run_and_restarted(project: str, make_server, monkeypatch: pytest.MonkeyPatch) -> None:
    srv = make_server()
    monkeypatch.setenv("HERON_BASE_URL", srv.base_url)
    api = heron.Api()
    path = f"{ENTITY}/{project}/killed"
    run = heron.init(project=project, id="killed", settings=heron.Settings(finish_timeout=60))
    stop = threading.Event()
    logged = []

    def train() -> None:
        # Logs steadily while the server dies and comes back, so batches are in flight at the kills.
        while not stop.is_set():
            for _ in range(20):
                step = len(logged)
                heron.log({"value": step * 0.5, "square": step * step})
                logged.append(step)
            time.sleep(0.002)

    trainer = threading.Thread(target=train)
    trainer.start()
    try:
        for _kill in range(3):
            seen = len(stored_steps(api, path)) if _kill else 0
            wait_until(lambda: len(stored_steps(api, path)) > seen, timeout=20, what="new rows on the server")
            srv.kill()
            time.sleep(0.2)  # the uploader fails against the dead port and backs off
            srv.start()
    finally:
        stop.set()
        trainer.join()
    run.finish()

    rows = list(api.run(path).scan_history())
    assert len(logged) > 200
    assert [r["_step"] for r in rows] == logged == list(range(len(logged))), "every row exactly once, in order"
    assert all(r["value"] == r["_step"] * 0.5 and r["square"] == r["_step"] ** 2 for r in rows)
    assert api.run(path).state == "finished"


def test_server_restarted_gracefully_between_batches(
    project: str, make_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    srv = make_server()
    monkeypatch.setenv("HERON_BASE_URL", srv.base_url)
    api = heron.Api()
    run = heron.init(project=project, id="term")
    for i in range(100):
        heron.log({"x": i})
    path = f"{ENTITY}/{project}/term"
    wait_until(lambda: len(stored_steps(api, path)) == 100, what="the first 100 rows")
    srv.restart(signal.SIGTERM)
    for i in range(100, 200):
        heron.log({"x": i})
    run.finish()
    assert stored_steps(api, path) == list(range(200))
    assert Path(run.dir).is_dir()
