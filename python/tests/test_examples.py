"""The examples in examples/ run as a newcomer would run them, against the real server, and
their runs learn something (the training is real, not a stand-in)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import heron
from conftest import ENTITY, REPO


def test_python_example_logs_a_learning_run(project: str) -> None:
    script = REPO / "examples" / "python" / "logistic_regression.py"
    result = subprocess.run(
        [sys.executable, str(script), "--epochs", "4", "--project", project],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (run,) = heron.Api().runs(f"{ENTITY}/{project}")
    assert run.state == "finished"
    assert run.config["epochs"] == 4 and run.config["lr"] == 0.5
    assert run.summary["val/acc"]["best"] > 0.85
    assert run.summary["final_val_acc"] > 0.85
    assert [f.name for f in run.files()] == ["weights.npy"]
    assert "epoch 4/4" in " ".join(line["text"] for line in run.console())


def test_rust_example_logs_a_learning_run() -> None:
    binary = os.environ.get("HERON_TEST_EXAMPLE_BIN") or str(REPO / "target" / "debug" / "heron-example")
    if not os.path.isfile(binary):
        pytest.fail(f"no example binary at {binary}; build it with `cargo build -p heron-example`")
    result = subprocess.run([binary, "30"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("uploaded"), result.stdout
    run_id = result.stdout.strip().splitlines()[-1].split()[1].rstrip(":")
    run = heron.Api().run(f"{ENTITY}/examples/{run_id}")
    assert run.state == "finished"
    assert run.summary["val/mse"]["min"] < 0.05
    first = next(iter(run.scan_history(keys=["val/mse"])))
    assert first["val/mse"] > run.summary["val/mse"]["min"], "the loss went down"
