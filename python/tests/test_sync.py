"""Offline runs and `heron sync` (the Python function, `python -m heron sync` and the Rust CLI):
everything arrives once, a second sync adds nothing; a server that never answers leaves the
run for sync after finish_timeout."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

import heron
from conftest import ENTITY, Server, free_port, server_bin

ROWS = 120


def sync_with(method: str, run_dir: str) -> str:
    """Syncs one run folder the given way; returns what it printed."""
    if method == "function":
        outcomes = heron.sync([run_dir])
        assert [o["status"] for o in outcomes] == ["complete"], outcomes
        return repr(outcomes)
    if method == "python -m heron":
        command = [sys.executable, "-m", "heron", "sync", run_dir]
    else:
        command = [str(server_bin()), "sync", run_dir]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def server_state(api: heron.Api, path: str) -> tuple:
    """What sync must not change when run again: rows, console, config, summary, state."""
    run = api.run(path)
    rows = [{k: v for k, v in r.items()} for r in run.scan_history()]
    console = [(line["index"], line["stream"], line["text"]) for line in run.console()]
    return rows, console, run.config, run.summary, run.state


@pytest.mark.parametrize("method", ["function", "python -m heron", "rust cli"])
def test_offline_run_then_sync(project: str, method: str, api: heron.Api) -> None:
    run = heron.init(project=project, mode="offline", config={"lr": 0.1, "layers": [64, 64]}, tags=["offline"])
    print("epoch 0 starting")
    for i in range(ROWS):
        heron.log({"loss": 1.0 / (i + 1), "i": i})
    run.config.update({"epochs": 3})
    print("done training")
    sys.stderr.write("a warning line\n")
    with pytest.warns(UserWarning, match=f"heron sync {run.dir}"):
        run.finish()
    path = f"{ENTITY}/{project}/{run.id}"
    with pytest.raises(heron.HeronError) as error:
        api.run(path)
    assert error.value.status == 404, "an offline run sends nothing"

    sync_with(method, run.dir)
    stored = api.run(path)
    assert stored.state == "finished"
    assert stored.config == {"lr": 0.1, "layers": [64, 64], "epochs": 3}
    assert stored.tags == ["offline"]
    rows = list(stored.scan_history())
    assert [r["_step"] for r in rows] == list(range(ROWS))
    assert [r["i"] for r in rows] == list(range(ROWS))
    assert stored.summary["loss"] == pytest.approx(1.0 / ROWS)
    texts = [(line["stream"], line["text"]) for line in stored.console()]
    assert ("stdout", "epoch 0 starting") in texts and ("stdout", "done training") in texts
    assert ("stderr", "a warning line") in texts

    before = server_state(api, path)
    printed = sync_with(method, run.dir)
    assert server_state(api, path) == before, "a second sync adds nothing"
    if method == "function":
        assert "'rows': 0" in printed
        assert heron.sync() == [], "nothing is left to sync under HERON_DIR"


def test_sync_without_its_progress_file_sends_nothing_twice(project: str, api: heron.Api) -> None:
    run = heron.init(project=project, mode="offline")
    for i in range(ROWS):
        print(f"line {i}")
        heron.log({"x": i})
    with pytest.warns(UserWarning, match="heron sync"):
        run.finish()
    (outcome,) = heron.sync()  # every unfinished run under HERON_DIR
    assert (outcome["status"], outcome["rows"]) == ("complete", ROWS)
    path = f"{ENTITY}/{project}/{run.id}"
    before = server_state(api, path)
    assert len(before[0]) == ROWS and len(before[1]) == ROWS

    (Path(run.dir) / "upload.json").unlink()  # the progress is lost: the server's seq guards
    (again,) = heron.sync([run.dir])
    assert again["status"] == "complete"
    assert server_state(api, path) == before


def test_sync_of_a_missing_or_broken_folder_reports_failure(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.log").write_bytes(b"not a run log")
    (outcome,) = heron.sync([tmp_path / "broken"])
    assert outcome["status"] == "failed" and "run log" in outcome["error"]
    result = subprocess.run(
        [sys.executable, "-m", "heron", "sync", str(tmp_path / "broken")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "failed" in result.stdout


def test_unreachable_server_finish_timeout_then_sync(
    project: str, server: Server, api: heron.Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERON_BASE_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.warns(UserWarning, match="cannot reach the Heron server"):
        run = heron.init(project=project, config={"lr": 0.3}, settings={"finish_timeout": 2})
    assert run.mode == "online"

    started = time.perf_counter()
    for i in range(500):
        heron.log({"loss": float(i)})  # never raises, never waits for the network
    assert time.perf_counter() - started < 1.0

    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.finish()
    took = time.perf_counter() - started
    assert 1.5 < took < 6, f"finish took {took:.1f} s with finish_timeout=2"
    hints = [str(w.message) for w in caught if "heron sync" in str(w.message)]
    assert len(hints) == 1, [str(w.message) for w in caught]
    assert f"heron sync {run.dir}" in hints[0] and "not fully uploaded" in hints[0]
    assert (Path(run.dir) / "run.log").stat().st_size > 0, "the data stays in the run folder"

    monkeypatch.setenv("HERON_BASE_URL", server.base_url)
    (outcome,) = heron.sync()
    assert (outcome["status"], outcome["rows"]) == ("complete", 500)
    stored = api.run(f"{ENTITY}/{project}/{run.id}")
    assert stored.state == "finished"
    assert stored.config == {"lr": 0.3}
    assert [r["loss"] for r in stored.scan_history()] == [float(i) for i in range(500)]


def test_settings_object_finish_timeout(project: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_BASE_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.warns(UserWarning):
        run = heron.init(project=project, settings=heron.Settings(finish_timeout=0.5, console="off"))
    heron.log({"x": 1})
    started = time.perf_counter()
    with pytest.warns(UserWarning, match="heron sync"):
        run.finish()
    assert time.perf_counter() - started < 4


def test_cli_sync_of_everything_under_heron_dir(project: str, api: heron.Api) -> None:
    ids = []
    for n in range(2):
        run = heron.init(project=project, mode="offline", reinit=True)
        heron.log({"n": n})
        with pytest.warns(UserWarning):
            run.finish()
        ids.append(run.id)
    result = subprocess.run([str(server_bin()), "sync"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(r.id for r in api.runs(f"{ENTITY}/{project}")) == sorted(ids)
