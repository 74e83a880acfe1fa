"""heron.init and the run object: every argument read back from the server, the three modes,
resume rules, reinit, the context manager, config and summary, login."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pytest

import heron
from conftest import ENTITY, Server


def test_init_arguments_are_stored(project: str, api: heron.Api, tmp_path: Path) -> None:
    args = argparse.Namespace(lr=0.01, batch_size=32, optimizer="adam", _private="hidden")
    run = heron.init(
        project=project,
        entity=ENTITY,
        name="baseline-1",
        id="run-args",
        config=args,
        tags=["baseline", "λ-tag"],
        notes="first try",
        group="sweep-7",
        job_type="train",
        dir=tmp_path / "elsewhere",
    )
    assert heron.run is run
    assert (run.id, run.name, run.entity, run.project) == ("run-args", "baseline-1", ENTITY, project)
    assert run.mode == "online"
    assert run.path == f"{ENTITY}/{project}/run-args"
    assert run.url == f"{os.environ['HERON_BASE_URL']}/{ENTITY}/{project}/runs/run-args"
    assert Path(run.dir).parent == tmp_path / "elsewhere", "dir= chooses where the run folder goes"
    assert run.config.lr == 0.01 and run.config["optimizer"] == "adam"
    assert "_private" not in run.config
    run.finish()

    stored = api.run(f"{ENTITY}/{project}/run-args")
    assert stored.name == "baseline-1"
    assert stored.config == {"lr": 0.01, "batch_size": 32, "optimizer": "adam"}
    assert stored.tags == ["baseline", "λ-tag"]
    assert stored.notes == "first try"
    assert stored.group == "sweep-7"
    assert stored.job_type == "train"
    assert stored.state == "finished"
    assert stored.metadata["python"]["executable"]


def test_defaults_and_env_project(project: str, api: heron.Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_PROJECT", project)
    run = heron.init()
    assert run.project == project
    assert run.entity == ENTITY, "the entity defaults to the key's user"
    assert run.id and run.name, "id and name are generated"
    heron.log({"x": 1})
    heron.finish()
    assert heron.run is None
    assert [r.id for r in api.runs(f"{ENTITY}/{project}")] == [run.id]


def test_offline_mode_writes_nothing_to_the_server(project: str, server: Server, tmp_path: Path) -> None:
    run = heron.init(project=project, mode="offline", id="off1")
    assert run.mode == "offline" and run.offline
    heron.log({"loss": 1.0})
    with pytest.warns(UserWarning, match="heron sync"):
        run.finish()
    assert (Path(run.dir) / "run.log").stat().st_size > 0
    with pytest.raises(heron.HeronError) as error:
        heron.Api().run(f"{ENTITY}/{project}/off1")
    assert error.value.status == 404


def test_disabled_mode_does_nothing(project: str, tmp_path: Path) -> None:
    run = heron.init(project=project, mode="disabled", config={"a": 1})
    assert run.disabled and run.url is None
    heron.log({"loss": 1.0})
    heron.log({"loss": 2.0}, step=10)
    run.config.update({"b": 2})
    run.summary["best"] = 1
    heron.define_metric("loss", summary="min")
    heron.finish()
    assert not (tmp_path / "heron").exists(), "disabled mode writes no run folder"
    with pytest.raises(heron.HeronError):
        heron.Api().run(f"{ENTITY}/{project}/{run.id}")


def test_mode_from_environment_and_bad_mode(project: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_MODE", "disabled")
    assert heron.init(project=project).disabled
    heron.finish()
    monkeypatch.delenv("HERON_MODE")
    with pytest.raises(ValueError, match="online, offline or disabled"):
        heron.init(project=project, mode="sometimes")


def test_resume_allow_continues_the_run(project: str, api: heron.Api) -> None:
    first = heron.init(project=project, id="res", config={"lr": 0.1})
    for i in range(3):
        heron.log({"loss": float(i)})
    first.finish()

    again = heron.init(project=project, id="res", resume="allow", config={"epochs": 5})
    assert again.resumed
    assert again.step == 3, "a resumed run continues after its last step"
    assert dict(again.config) == {"lr": 0.1, "epochs": 5}
    heron.log({"loss": 3.0})
    again.finish()

    stored = api.run(f"{ENTITY}/{project}/res")
    assert [(r["_step"], r["loss"]) for r in stored.scan_history()] == [(0, 0.0), (1, 1.0), (2, 2.0), (3, 3.0)]
    assert stored.config == {"lr": 0.1, "epochs": 5}
    assert stored.state == "finished"


def test_resume_true_and_new_id_with_allow(project: str) -> None:
    run = heron.init(project=project, id="fresh", resume=True)
    assert not run.resumed and run.step == 0
    run.finish()


def test_resume_must_needs_an_existing_run(project: str) -> None:
    with pytest.raises(heron.HeronError, match="does not exist") as error:
        heron.init(project=project, id="missing", resume="must")
    assert error.value.status == 404
    assert heron.run is None


def test_resume_never_refuses_an_existing_run(project: str) -> None:
    heron.init(project=project, id="taken").finish()
    with pytest.raises(heron.HeronError, match="already exists") as error:
        heron.init(project=project, id="taken", resume="never")
    assert error.value.status == 409


def test_bad_resume_value(project: str) -> None:
    with pytest.raises(ValueError, match="allow, must or never"):
        heron.init(project=project, resume="sometimes")


def test_reinit(project: str, api: heron.Api) -> None:
    first = heron.init(project=project, id="one")
    assert heron.init(project=project, id="two") is first, "without reinit the active run is returned"
    second = heron.init(project=project, id="two", reinit=True)
    assert second is not first and heron.run is second
    assert api.run(f"{ENTITY}/{project}/one").state == "finished", "reinit finishes the previous run"
    second.finish()


def test_context_manager_marks_finished_or_failed(project: str, api: heron.Api) -> None:
    with heron.init(project=project, id="ok") as run:
        run.log({"x": 1})
    assert api.run(f"{ENTITY}/{project}/ok").state == "finished"

    with pytest.raises(RuntimeError, match="boom"):
        with heron.init(project=project, id="bad") as run:
            run.log({"x": 1})
            raise RuntimeError("boom")
    stored = api.run(f"{ENTITY}/{project}/bad")
    assert stored.state == "failed"
    assert stored.exit_code == 1
    assert heron.run is None


def test_finish_with_exit_code_marks_failed(project: str, api: heron.Api) -> None:
    run = heron.init(project=project, id="exit1")
    run.log({"x": 1})
    run.finish(exit_code=1)
    run.finish()  # a second finish does nothing
    stored = api.run(f"{ENTITY}/{project}/exit1")
    assert (stored.state, stored.exit_code) == ("failed", 1)


def test_config_access_and_update(project: str, api: heron.Api) -> None:
    run = heron.init(project=project, config={"lr": 0.1, "model": {"depth": 4}}, config_exclude_keys=["model"])
    assert run.config.lr == run.config["lr"] == 0.1
    assert "model" not in run.config
    run.config.epochs = 10
    run.config["batch"] = 64
    run.config.update({"lr": 0.2}, dropout=0.5)
    run.config.update(argparse.Namespace(seed=7))
    run.config.setdefaults({"lr": 99, "warmup": 3})
    del run.config["batch"]
    assert heron.config is run.config
    with pytest.raises(AttributeError):
        run.config.missing
    expected = {"lr": 0.2, "epochs": 10, "dropout": 0.5, "seed": 7, "warmup": 3}
    assert run.config.as_dict() == expected
    run.finish()
    assert api.run(f"{ENTITY}/{project}/{run.id}").config == expected


def test_config_include_keys(project: str) -> None:
    run = heron.init(project=project, config={"a": 1, "b": 2}, config_include_keys=["a"])
    assert run.config.as_dict() == {"a": 1}


def test_summary_set_explicitly_wins_over_logged_values(project: str, api: heron.Api) -> None:
    run = heron.init(project=project)
    heron.log({"loss": 3.0, "acc": 0.5})
    heron.log({"loss": 1.0, "acc": 0.7})
    run.summary["best_acc"] = 0.99
    run.summary.update({"note": "ok", "nested": {"a": 1}})
    assert heron.summary["best_acc"] == 0.99
    run.finish()
    summary = api.run(f"{ENTITY}/{project}/{run.id}").summary
    assert summary["loss"] == 1.0 and summary["acc"] == 0.7, "the summary holds the last logged values"
    assert summary["best_acc"] == 0.99
    assert summary["note"] == "ok"
    assert summary["nested"] == {"a": 1}


def test_summary_reads_logged_values_while_the_run_logs(project: str, api: heron.Api) -> None:
    run = heron.init(project=project)
    heron.define_metric("loss", summary="min")
    for loss, acc in [(3.0, 0.2), (1.0, 0.6), (2.0, 0.5)]:
        heron.log({"loss": loss, "acc": acc})
    assert run.summary["loss"] == {"min": 1.0}
    assert run.summary["acc"] == 0.5
    run.summary["acc"] = 0.99
    assert heron.summary["acc"] == 0.99, "a value set explicitly stands over the logged one"
    heron.log({"acc": 0.7})
    assert run.summary["acc"] == 0.7, "until the key is logged again"
    run.summary["best"] = 1
    assert dict(run.summary) == {"loss": {"min": 1.0}, "acc": 0.7, "best": 1}
    run.finish()
    assert dict(run.summary) == {"loss": {"min": 1.0}, "acc": 0.7, "best": 1}, "readable after finish"
    stored = api.run(f"{ENTITY}/{project}/{run.id}").summary
    assert stored == {"loss": {"min": 1.0}, "acc": 0.7, "best": 1}


def test_tags_and_notes_can_change_during_the_run(project: str, api: heron.Api) -> None:
    run = heron.init(project=project, tags=["a"])
    run.tags = run.tags + ("b",)
    run.notes = "changed"
    assert run.tags == ("a", "b")
    run.finish()
    stored = api.run(f"{ENTITY}/{project}/{run.id}")
    assert (stored.tags, stored.notes) == (["a", "b"], "changed")


def test_module_attributes_need_a_run() -> None:
    assert heron.run is None
    with pytest.raises(AttributeError, match="heron.init"):
        heron.config
    with pytest.raises(RuntimeError, match="heron.init"):
        heron.log({"x": 1})


def test_login_saves_the_key(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HERON_API_KEY")
    assert heron.login(server.api_key) is True
    credentials = tmp_path / "config" / "heron" / "credentials.toml"
    text = credentials.read_text()
    assert server.base_url in text and server.api_key in text
    assert credentials.stat().st_mode & 0o777 == 0o600
    # The SDK now finds the key there without HERON_API_KEY.
    assert heron.Api().viewer()["name"] == ENTITY


def test_login_with_a_wrong_key_raises(tmp_path: Path) -> None:
    with pytest.raises(heron.HeronError) as error:
        heron.login("heron_" + "0" * 40)
    assert error.value.status == 401
    assert not (tmp_path / "config" / "heron" / "credentials.toml").exists()


def test_a_wrong_key_fails_init_with_advice(project: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_API_KEY", "heron_" + "f" * 40)
    with pytest.raises(heron.HeronError, match="heron login"):
        heron.init(project=project)


def test_config_values_are_converted(project: str, api: heron.Api) -> None:
    config = {"lr": np.float32(0.5), "n": np.int64(3), "dims": (1, 2), "path": Path("/x")}
    with pytest.warns(UserWarning, match="PosixPath is not JSON; stored as its str"):
        run = heron.init(project=project, config=config)
    run.finish()
    with pytest.raises(TypeError, match="config must be a dict"):
        heron.init(project=project, config=[1, 2])
    config = api.run(f"{ENTITY}/{project}/{run.id}").config
    assert config == {"lr": 0.5, "n": 3, "dims": [1, 2], "path": "/x"}


def test_resumed_run_appends_to_the_console(project: str, api: heron.Api) -> None:
    heron.init(project=project, id="con")
    print("first")
    print("second")
    heron.finish()
    heron.init(project=project, id="con", resume="must")
    print("third")
    heron.finish()
    lines = api.run(f"{ENTITY}/{project}/con").console()
    assert [(line["index"], line["text"]) for line in lines] == [(0, "first"), (1, "second"), (2, "third")]
