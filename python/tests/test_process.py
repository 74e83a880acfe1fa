"""Training processes: how each way of ending (exception, sys.exit, falling off the end, SIGKILL)
leaves the run, and distributed ranks. Each training runs in its own interpreter, since the
exit hooks are per process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

import heron
from conftest import ENTITY, free_port, run_python

HEAD = """
import os, sys, time
import heron
run = heron.init(project=os.environ["TEST_PROJECT"], id=os.environ["TEST_RUN"], config={"lr": 0.1})
for i in range(5):
    heron.log({"x": i})
print("training line")
"""


def training(project: str, run_id: str, tail: str, check: bool = True) -> subprocess.CompletedProcess:
    code = HEAD + textwrap.dedent(tail)
    return run_python(code, env={"TEST_PROJECT": project, "TEST_RUN": run_id}, check=check)


def stored(project: str, run_id: str) -> heron.api.ApiRun:
    return heron.Api().run(f"{ENTITY}/{project}/{run_id}")


def test_uncaught_exception_marks_the_run_failed(project: str) -> None:
    result = training(project, "crash", "raise ValueError('boom in training')", check=False)
    assert result.returncode == 1
    assert "ValueError: boom in training" in result.stderr, "the traceback is still printed"
    run = stored(project, "crash")
    assert (run.state, run.exit_code) == ("failed", 1)
    assert [r["x"] for r in run.scan_history()] == [0, 1, 2, 3, 4]
    texts = [line["text"] for line in run.console()]
    assert "training line" in texts
    assert any("ValueError: boom in training" in t for t in texts), "the traceback is in the console"


def test_keyboard_interrupt_marks_the_run_failed(project: str) -> None:
    result = training(project, "interrupted", "raise KeyboardInterrupt", check=False)
    assert result.returncode != 0
    assert stored(project, "interrupted").state == "failed"


def test_sys_exit_zero_marks_the_run_finished(project: str) -> None:
    result = training(project, "exit0", "sys.exit(0)")
    assert result.returncode == 0
    run = stored(project, "exit0")
    assert (run.state, run.exit_code) == ("finished", 0)
    assert run.last_step == 4


def test_sys_exit_non_zero_marks_the_run_failed(project: str) -> None:
    result = training(project, "exit3", "sys.exit(3)", check=False)
    assert result.returncode == 3
    run = stored(project, "exit3")
    assert (run.state, run.exit_code) == ("failed", 3)


def test_normal_exit_without_finish_marks_the_run_finished(project: str) -> None:
    training(project, "fell-off", "heron.log({'x': 5})")
    run = stored(project, "fell-off")
    assert run.state == "finished"
    assert [r["x"] for r in run.scan_history()] == [0, 1, 2, 3, 4, 5]
    assert "training line" in [line["text"] for line in run.console()]


@pytest.mark.parametrize("how", ["offline", "unreachable server"])
def test_sigkilled_training_is_recovered_by_sync(project: str, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"TEST_PROJECT": project, "ROWS": "250"}
    if how == "offline":
        env["HERON_MODE"] = "offline"
    else:
        env["HERON_BASE_URL"] = f"http://127.0.0.1:{free_port()}"
    code = """
        import os, sys, time
        import heron
        run = heron.init(project=os.environ["TEST_PROJECT"], id="killed", config={"lr": 0.1})
        for i in range(int(os.environ["ROWS"])):
            heron.log({"loss": i / 10, "i": i})
        print("about to be killed")
        time.sleep(0.5)  # the writer thread puts everything in the run log meanwhile
        sys.__stdout__.write("RUN_DIR " + run.dir + "\\n")
        sys.__stdout__.flush()
        time.sleep(120)
    """
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run_dir = None
        for line in process.stdout:  # type: ignore[union-attr]
            if line.startswith("RUN_DIR "):
                run_dir = line[len("RUN_DIR ") :].strip()
                break
        assert run_dir, process.stderr.read()  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    (outcome,) = heron.sync([run_dir])
    assert outcome["status"] == "up_to_date", "the run never finished, so sync cannot finish it"
    assert outcome["rows"] == 250
    run = stored(project, "killed")
    assert run.state in ("running", "crashed")
    assert run.config == {"lr": 0.1}
    rows = list(run.scan_history())
    assert [r["i"] for r in rows] == list(range(250))
    assert [r["_step"] for r in rows] == list(range(250))
    assert "about to be killed" in [line["text"] for line in run.console()]
    assert heron.sync([run_dir])[0]["rows"] == 0, "a second sync sends nothing"


def test_distributed_ranks_share_a_group(project: str) -> None:
    code = textwrap.dedent(
        """
        import os, heron
        run = heron.init(project=os.environ["TEST_PROJECT"])
        heron.log({"rank_loss": float(os.environ["RANK"])})
        heron.finish()
        print(run.id)
        """
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env={
                **os.environ,
                "TEST_PROJECT": project,
                "RANK": str(rank),
                "LOCAL_RANK": str(rank),
                "WORLD_SIZE": "2",
                "TORCHELASTIC_RUN_ID": "job42",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    outputs = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    runs = list(heron.Api().runs(f"{ENTITY}/{project}"))
    assert len(runs) == 2
    assert {r.group for r in runs} == {"job42"}
    by_rank = {r.metadata["distributed"]["rank"]: r for r in runs}
    assert sorted(by_rank) == [0, 1]
    for rank, run in by_rank.items():
        assert run.metadata["distributed"]["world_size"] == 2
        assert run.metadata["distributed"]["launcher"] == "torchrun"
        assert run.summary["rank_loss"] == rank
    assert sorted(r.id for r in runs) == sorted(out.strip() for out, _ in outputs)


def test_an_explicit_group_wins_over_the_job(project: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job42")
    run = heron.init(project=project, group="mine")
    run.finish()
    stored_run = heron.Api().run(run.path)
    assert stored_run.group == "mine"
    assert stored_run.metadata["distributed"]["rank"] == 1
