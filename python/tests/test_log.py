"""heron.log: wandb's step and commit semantics, the value types it accepts, define_metric
summaries and saved files, each read back from the server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import heron
from conftest import ENTITY, rows_of


def stored_rows(project: str, run: heron.Run) -> list:
    """The run's history on the server, without the timestamps."""
    stored = heron.Api().run(f"{ENTITY}/{project}/{run.id}")
    return [{k: v for k, v in row.items() if k != "_timestamp"} for row in rows_of(stored)]


def test_log_without_step_writes_one_row_per_call(project: str) -> None:
    run = heron.init(project=project)
    for i in range(5):
        assert run.step == i
        heron.log({"loss": 1.0 / (i + 1), "epoch": i})
    run.finish()
    assert stored_rows(project, run) == [{"_step": i, "loss": 1.0 / (i + 1), "epoch": float(i)} for i in range(5)]


def test_commit_false_merges_into_the_same_row(project: str) -> None:
    run = heron.init(project=project)
    heron.log({"a": 1}, commit=False)
    heron.log({"b": 2}, commit=False)
    assert run.step == 0, "an uncommitted row keeps the step"
    heron.log({"c": 3})
    heron.log({"a": 4})
    heron.log({"b": 5}, commit=False)
    heron.log({}, commit=True)
    run.finish()
    assert stored_rows(project, run) == [
        {"_step": 0, "a": 1.0, "b": 2.0, "c": 3.0},
        {"_step": 1, "a": 4.0},
        {"_step": 2, "b": 5.0},
    ]


def test_explicit_steps_merge_until_a_greater_step(project: str) -> None:
    run = heron.init(project=project)
    heron.log({"loss": 1.0}, step=0)
    heron.log({"acc": 0.5}, step=0)
    heron.log({"loss": 0.5}, step=10)
    heron.log({"acc": 0.7}, step=10)
    heron.log({"lr": 0.1})  # no step: joins the open row at 10 and commits it
    assert run.step == 11
    heron.log({"loss": 0.2}, step=np.int64(20), commit=True)
    assert run.step == 21
    with pytest.warns(UserWarning, match="step 20 is before the current step 21"):
        heron.log({"late": 1.0}, step=20)  # step 20 was committed: too late for it
    heron.log({"loss": 0.1}, step=30)  # left open: finish commits it
    run.finish()
    assert stored_rows(project, run) == [
        {"_step": 0, "loss": 1.0, "acc": 0.5},
        {"_step": 10, "loss": 0.5, "acc": 0.7, "lr": 0.1},
        {"_step": 20, "loss": 0.2},
        {"_step": 30, "loss": 0.1},
    ]


def test_a_step_going_back_is_dropped_with_a_warning(project: str) -> None:
    run = heron.init(project=project)
    heron.log({"loss": 1.0}, step=5)
    heron.log({"loss": 2.0}, step=6)
    with pytest.warns(UserWarning, match=r"step 3 is before the current step 6"):
        heron.log({"loss": 99.0, "other": 1}, step=3)
    heron.log({"loss": 3.0}, step=7)
    run.finish()
    assert stored_rows(project, run) == [
        {"_step": 5, "loss": 1.0},
        {"_step": 6, "loss": 2.0},
        {"_step": 7, "loss": 3.0},
    ]


def test_nested_dicts_become_dotted_keys(project: str) -> None:
    run = heron.init(project=project)
    heron.log({"train": {"loss": 0.5, "acc": {"top1": 0.9, "top5": 0.99}}, "val/loss": 0.6})
    run.finish()
    assert stored_rows(project, run) == [
        {"_step": 0, "train.loss": 0.5, "train.acc.top1": 0.9, "train.acc.top5": 0.99, "val/loss": 0.6}
    ]


class TorchLikeScalar:
    """What a 0-d torch tensor offers: .item() and a shape; never import torch for it."""

    shape = ()

    def __init__(self, value: float) -> None:
        self._value = value

    def item(self) -> float:
        return self._value


def test_value_types(project: str) -> None:
    run = heron.init(project=project)
    heron.log(
        {
            "int": 3,
            "negative": -7,
            "bool_true": True,
            "bool_false": False,
            "none": None,
            "text": "hello",
            "np_float32": np.float32(1.5),
            "np_float64": np.float64(0.25),
            "np_int64": np.int64(42),
            "np_bool": np.bool_(True),
            "np_0d": np.array(3.0),
            "torch_like": TorchLikeScalar(0.125),
            "list": [1, 2.5, "x"],
            "tuple": (1, 2),
        }
    )
    run.finish()
    (row,) = stored_rows(project, run)
    assert row == {
        "_step": 0,
        "int": 3,
        "negative": -7,
        "bool_true": True,
        "bool_false": False,
        "none": None,
        "text": "hello",
        "np_float32": 1.5,
        "np_float64": 0.25,
        "np_int64": 42,
        "np_bool": True,
        "np_0d": 3.0,
        "torch_like": 0.125,
        "list": [1, 2.5, "x"],
        "tuple": [1, 2],
    }
    assert isinstance(row["bool_true"], bool), "bools stay bools, not 1.0"
    summary = heron.Api().run(f"{ENTITY}/{project}/{run.id}").summary
    assert summary["np_int64"] == 42 and summary["text"] == "hello" and summary["torch_like"] == 0.125


def test_numpy_values_keep_precision(project: str) -> None:
    run = heron.init(project=project)
    heron.log({"f32": np.float32(0.1), "big": np.int64(2**52 + 1)})
    run.finish()
    (row,) = stored_rows(project, run)
    assert row["f32"] == float(np.float32(0.1))
    assert row["big"] == 2**52 + 1


def test_define_metric_summaries(project: str) -> None:
    run = heron.init(project=project)
    heron.define_metric("loss", summary="min,max,mean")
    run.define_metric("acc", summary="best", goal="maximize")
    heron.define_metric("val/*", summary="best", goal="minimize")
    heron.define_metric("noisy", summary="none")
    heron.define_metric("epoch", hidden=True)
    heron.define_metric("step_loss", step_metric="epoch")
    values = [(4.0, 0.1, 0.9, 3.0), (2.0, 0.7, 0.5, 1.0), (3.0, 0.4, 0.6, 2.0)]
    for epoch, (loss, acc, val_loss, val_err) in enumerate(values):
        heron.log(
            {
                "loss": loss,
                "acc": acc,
                "val/loss": val_loss,
                "val/err": val_err,
                "noisy": epoch,
                "plain": epoch,
                "epoch": epoch,
            }
        )
    run.finish()
    summary = heron.Api().run(f"{ENTITY}/{project}/{run.id}").summary
    assert summary["loss"] == {"min": 2.0, "max": 4.0, "mean": 3.0}
    assert summary["acc"] == {"best": 0.7}
    assert summary["val/loss"] == {"best": 0.5}, "glob names apply to every matching key"
    assert summary["val/err"] == {"best": 1.0}
    assert "noisy" not in summary, 'summary="none" keeps a key out of the summary'
    assert summary["plain"] == 2, "other keys keep their last value"


def test_define_metric_after_logging_applies_to_existing_keys(project: str) -> None:
    run = heron.init(project=project)
    heron.log({"val/acc": 0.2})
    heron.define_metric("val/*", summary="max")
    heron.log({"val/acc": 0.9})
    heron.log({"val/acc": 0.4})
    run.finish()
    assert heron.Api().run(f"{ENTITY}/{project}/{run.id}").summary["val/acc"] == {"max": 0.9}


def test_define_metric_rejects_unknown_summaries_with_a_warning(project: str) -> None:
    heron.init(project=project)
    with pytest.warns(UserWarning, match="median"):
        heron.define_metric("loss", summary="median")
    with pytest.warns(UserWarning, match="goal"):
        heron.define_metric("loss", summary="best", goal="up")


def test_save_uploads_files_with_the_same_bytes(project: str, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 1000
    (tmp_path / "model.bin").write_bytes(payload)
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "a.txt").write_text("alpha")
    (tmp_path / "ckpt" / "b.txt").write_text("beta")
    (tmp_path / "live.txt").write_text("first version")
    run = heron.init(project=project)
    assert heron.save(str(tmp_path / "model.bin"), policy="now") == ["model.bin"]
    assert run.save(tmp_path / "ckpt" / "*.txt", base_path=str(tmp_path)) == ["ckpt/a.txt", "ckpt/b.txt"]
    heron.save("live.txt")  # relative to the working folder; policy "live" keeps the final content
    (tmp_path / "live.txt").write_text("final version")
    with pytest.warns(UserWarning, match="no file matches"):
        assert heron.save("nothing-*.bin") == []
    run.finish()

    stored = heron.Api().run(f"{ENTITY}/{project}/{run.id}")
    files = {f.name: f for f in stored.files()}
    assert set(files) == {"model.bin", "ckpt/a.txt", "ckpt/b.txt", "live.txt"}
    assert files["model.bin"].size == len(payload)
    assert files["model.bin"].sha256 == hashlib.sha256(payload).hexdigest()
    out = tmp_path / "download"
    path = files["model.bin"].download(root=str(out))
    assert Path(path).read_bytes() == payload
    assert Path(stored.file("ckpt/b.txt").download(root=str(out))).read_text() == "beta"
    assert Path(files["live.txt"].download(root=str(out))).read_text() == "final version"
    with pytest.raises(FileExistsError):
        files["model.bin"].download(root=str(out))
    assert files["model.bin"].download(root=str(out), exist_ok=True) == path
    with pytest.raises(FileNotFoundError):
        stored.file("missing.txt")


def test_many_rows_arrive_in_order(project: str) -> None:
    """20k rows of 4 values (speed is measured by `make bench`, not here)."""
    run = heron.init(project=project)
    for i in range(20_000):
        run.log({"loss": 1.0 / (i + 1), "acc": 0.5, "lr": 0.001, "epoch": i // 1000})
    run.finish()
    stored = heron.Api().run(f"{ENTITY}/{project}/{run.id}")
    assert stored.last_step == 19_999
    assert stored.history_rows == 20_000
