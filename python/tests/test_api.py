"""heron.Api(): listing runs with filters and order, one run's fields, history (pandas and not),
scan_history, series, files."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import heron
from conftest import ENTITY, Server

LEARNING_RATES = [0.01, 0.1, 0.2]


def log_runs(project: str) -> list:
    """Three finished runs, one per learning rate, 50 rows each; returns their ids."""
    ids = []
    for lr in LEARNING_RATES:
        run = heron.init(project=project, id=f"lr-{lr}", config={"lr": lr, "opt": {"name": "sgd"}}, tags=[f"lr{lr}"])
        for step in range(50):
            row = {"loss": lr * (50 - step), "step_sq": step * step}
            if step % 10 == 0:
                row["val/acc"] = step / 100 + lr
            heron.log(row)
        run.summary["final"] = lr * 10
        run.finish()
        ids.append(run.id)
    return ids


def test_runs_filters_and_order(project: str, api: heron.Api) -> None:
    log_runs(project)
    path = f"{ENTITY}/{project}"
    runs = api.runs(path)
    assert len(runs) == 3
    assert [r.id for r in runs] == ["lr-0.2", "lr-0.1", "lr-0.01"], "newest first by default"

    fast = api.runs(path, filters="config.lr > 0.05")
    assert sorted(r.id for r in fast) == ["lr-0.1", "lr-0.2"]
    assert len(fast) == 2
    assert [r.id for r in api.runs(path, filters='config.opt.name = "sgd" and summary.final < 1')] == ["lr-0.01"]
    assert [r.id for r in api.runs(path, filters='tags contains "lr0.1"')] == ["lr-0.1"]
    assert [r.id for r in api.runs(path, filters='state = "running"')] == []

    assert [r.id for r in api.runs(path, order="config.lr")] == ["lr-0.01", "lr-0.1", "lr-0.2"]
    assert [r.id for r in api.runs(path, order="-summary.final")] == ["lr-0.2", "lr-0.1", "lr-0.01"]
    assert [r.id for r in api.runs(path, order="+created_at")] == ["lr-0.01", "lr-0.1", "lr-0.2"]

    paged = api.runs(path, order="config.lr", per_page=1)
    assert [r.id for r in paged] == ["lr-0.01", "lr-0.1", "lr-0.2"], "pages follow each other"
    assert paged[2].id == "lr-0.2"

    with pytest.raises(heron.HeronError, match="filter") as error:
        list(api.runs(path, filters="config.lr >"))
    assert error.value.status == 422
    with pytest.raises(TypeError):
        api.runs(path, filters={"config.lr": 0.1})  # type: ignore[arg-type]


def test_runs_with_default_entity_and_project(project: str) -> None:
    log_runs(project)
    assert len(heron.Api().runs(project)) == 3, "the entity defaults to the key's user"
    api = heron.Api(overrides={"project": project})
    assert len(api.runs()) == 3
    assert api.run("lr-0.1").config["lr"] == 0.1
    assert project in [p["name"] for p in api.projects()]


def test_run_fields(project: str, api: heron.Api) -> None:
    log_runs(project)
    run = api.run(f"{ENTITY}/{project}/lr-0.1")
    assert run.path == [ENTITY, project, "lr-0.1"]
    assert run.state == "finished" and run.exit_code == 0
    assert run.config == {"lr": 0.1, "opt": {"name": "sgd"}}
    assert run.summary["loss"] == pytest.approx(0.1) and run.summary["final"] == 1.0
    assert run.summary["step_sq"] == 49 * 49
    assert run.last_step == 49
    assert run.tags == ["lr0.1"]
    # wandb-style path spellings
    assert api.run(f"{ENTITY}/{project}/runs/lr-0.1").id == "lr-0.1"
    with pytest.raises(ValueError, match="entity/project/run_id"):
        api.run("a/b/c/d")
    with pytest.raises(heron.HeronError) as error:
        api.run(f"{ENTITY}/{project}/nope")
    assert error.value.status == 404
    run.update(notes="edited", tags=["x"])
    assert api.run(f"{ENTITY}/{project}/lr-0.1").load().notes == "edited"


def test_history_as_dataframe_and_list(project: str, api: heron.Api) -> None:
    log_runs(project)
    run = api.run(f"{ENTITY}/{project}/lr-0.2")
    frame = run.history()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 50
    assert list(frame["_step"]) == list(range(50))
    assert frame["loss"].tolist() == pytest.approx([0.2 * (50 - s) for s in range(50)])
    assert math.isnan(frame["val/acc"][1]), "a key missing from a row is NaN in the frame"

    sampled = run.history(samples=10)
    assert len(sampled) == 10
    assert sampled["_step"].iloc[0] == 0 and sampled["_step"].iloc[-1] == 49, "first and last rows are kept"

    rows = run.history(keys=["val/acc"], pandas=False)
    assert isinstance(rows, list)
    assert [r["_step"] for r in rows] == [0, 10, 20, 30, 40], "rows without the keys are left out"
    assert set(rows[0]) == {"_step", "_timestamp", "val/acc"}
    assert rows[1]["val/acc"] == pytest.approx(0.3)

    two = run.history(keys=["loss", "val/acc"], samples=None, pandas=False)
    assert len(two) == 50
    assert len(run.history(samples=1, pandas=False)) == 1


def test_scan_history_visits_every_row_once(project: str, api: heron.Api) -> None:
    log_runs(project)
    run = api.run(f"{ENTITY}/{project}/lr-0.01")
    for page_size in (1, 7, 50, 1000):
        steps = [row["_step"] for row in run.scan_history(page_size=page_size)]
        assert steps == list(range(50)), f"page_size={page_size}"
    rows = list(run.scan_history(keys=["step_sq"], min_step=10, max_step=19, page_size=3))
    assert [r["_step"] for r in rows] == list(range(10, 20))
    assert [r["step_sq"] for r in rows] == [s * s for s in range(10, 20)]
    assert set(rows[0]) == {"_step", "_timestamp", "step_sq"}


def test_keys(project: str, api: heron.Api) -> None:
    log_runs(project)
    keys = {k["key"]: k for k in api.run(f"{ENTITY}/{project}/lr-0.1").keys()}
    assert set(keys) - {"_timestamp"} == {"loss", "step_sq", "val/acc"}
    assert keys["val/acc"]["count"] == 5
    assert (keys["val/acc"]["min_step"], keys["val/acc"]["max_step"]) == (0, 40)
    assert keys["loss"]["kind"] == "scalar" and keys["loss"]["count"] == 50


def test_series(project: str, api: heron.Api) -> None:
    log_runs(project)
    run = api.run(f"{ENTITY}/{project}/lr-0.1")
    steps, values, times = run.series("val/acc")
    assert list(steps) == [0, 10, 20, 30, 40]
    assert list(values) == pytest.approx([s / 100 + 0.1 for s in (0, 10, 20, 30, 40)])
    assert len(times) == 5 and all(t > 1e9 for t in times)
    steps, values, _ = run.series("loss", min_step=45, max_step=47)
    assert list(steps) == [45, 46, 47]
    assert list(values) == pytest.approx([0.5, 0.4, 0.3])
    assert len(run.series("never-logged")[0]) == 0


def test_api_with_explicit_server(project: str, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    log_runs(project)
    monkeypatch.delenv("HERON_BASE_URL")
    monkeypatch.delenv("HERON_API_KEY")
    api = heron.Api(base_url=server.base_url, api_key=server.api_key)
    assert len(api.runs(f"{ENTITY}/{project}")) == 3
    with pytest.raises(heron.HeronError) as error:
        heron.Api(base_url=server.base_url, api_key="heron_" + "1" * 40).viewer()
    assert error.value.status == 401
