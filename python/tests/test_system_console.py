"""System metrics sampled during the run, and the console as a terminal would have shown it."""

from __future__ import annotations

import sys
import time

import pytest

import heron
from conftest import ENTITY, Server, run_python


def test_system_metrics_are_sampled(project: str, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_SYSTEM_INTERVAL", "0.2")
    run = heron.init(project=project, id="sys")
    deadline = time.monotonic() + 1.0
    step = 0
    while time.monotonic() < deadline:
        heron.log({"x": step})
        step += 1
        time.sleep(0.05)
    run.finish()

    page = server.get(f"{server.run_path(project, 'sys')}/system?limit=1000")
    rows = page["rows"]
    assert len(rows) >= 3, f"~1 s at 0.2 s intervals gives several samples, got {len(rows)}"
    keys = set().union(*rows)
    assert {"cpu", "proc.memory.rss_mb"} <= keys, keys
    rss = [r["proc.memory.rss_mb"] for r in rows if "proc.memory.rss_mb" in r]
    assert all(1 < mb < 1_000_000 for mb in rss), rss
    assert all(0 <= r["cpu"] <= 100 for r in rows if "cpu" in r)
    # The same through heron.Api.
    frame = heron.Api().run(run.path).history(stream="system", pandas=False)
    assert len(frame) == len(rows)
    history = heron.Api().run(run.path).history(pandas=False)
    assert "cpu" not in set().union(*history), "system metrics stay out of the run's history"


def test_settings_turn_system_metrics_off(project: str, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_SYSTEM_INTERVAL", "0.2")
    run = heron.init(project=project, id="nosys", settings=heron.Settings(x_disable_stats=True))
    heron.log({"x": 1})
    time.sleep(0.5)
    run.finish()
    assert server.get(f"{server.run_path(project, 'nosys')}/system")["rows"] == []


def test_console_lines_and_progress_bars(project: str, server: Server) -> None:
    run = heron.init(project=project, id="console")
    print("hello from training")
    print("two\nlines")
    for percent in (0, 25, 50, 75, 100):  # a tqdm-style bar redrawn in place
        sys.stdout.write(f"\rprogress {percent:3d}% |{'#' * (percent // 10):<10}|")
        sys.stdout.flush()
    sys.stdout.write("\n")
    sys.stderr.write("warning: on stderr\n")
    sys.stdout.write("\x1b[32mgreen\x1b[0m text\n")
    print("no newline at the end", end="")
    run.finish()

    page = server.get(f"{server.run_path(project, 'console')}/console")
    lines = [(line["stream"], line["text"]) for line in page["lines"]]
    assert ("stdout", "hello from training") in lines
    assert ("stdout", "two") in lines and ("stdout", "lines") in lines
    progress = [text for _, text in lines if "progress" in text]
    assert progress == ["progress 100% |##########|"], "only the final state of the bar is kept"
    assert ("stderr", "warning: on stderr") in lines
    assert any("green" in text and "text" in text for _, text in lines)
    assert ("stdout", "no newline at the end") in lines, "finish keeps a last partial line"
    indexes = [line["index"] for line in page["lines"]]
    assert indexes == list(range(len(indexes))), "lines are numbered from 0 without gaps"
    stdout_order = [text for stream, text in lines if stream == "stdout"]
    assert stdout_order.index("hello from training") < stdout_order.index("progress 100% |##########|")
    assert heron.Api().run(run.path).console(tail=1)[0]["text"] == "no newline at the end"


def test_console_off(project: str, server: Server) -> None:
    run = heron.init(project=project, id="quiet", settings={"console": "off"})
    print("not recorded")
    run.finish()
    assert server.get(f"{server.run_path(project, 'quiet')}/console")["lines"] == []
    with pytest.raises(ValueError, match="console"):
        heron.Settings(console="sometimes")


def test_console_of_a_subprocess_run(project: str) -> None:
    """In a plain interpreter (no pytest capture) prints reach both the terminal and the run."""
    result = run_python(
        f"""
        import heron
        run = heron.init(project={project!r}, id="sub")
        for i in range(3):
            print(f"epoch {{i}}")
        heron.finish()
        print("after finish")
        """
    )
    assert result.stdout.splitlines() == ["epoch 0", "epoch 1", "epoch 2", "after finish"]
    texts = [line["text"] for line in heron.Api().run(f"{ENTITY}/{project}/sub").console()]
    assert texts == ["epoch 0", "epoch 1", "epoch 2"]


def test_packages_and_program_are_recorded(project: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_PACKAGES", "1")
    run = heron.init(project=project, id="pkgs")
    heron.log({"x": 1.0})
    run.finish()
    stored = heron.Api().run(f"{ENTITY}/{project}/pkgs")
    (requirements,) = [f for f in stored.files() if f.name == "requirements.txt"]
    lines = open(requirements.download(root="dl")).read().splitlines()
    assert any(line.startswith("numpy==") for line in lines), lines[:20]
    assert lines == sorted(lines, key=str.lower)
    meta = stored.metadata
    assert meta["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert meta["host"] and meta["os"] and meta["cpu_count"] >= 1
