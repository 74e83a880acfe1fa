"""Bad and unusual values: each one warns (naming its key) or round-trips, never raises from
log() except for a call that is not a dict, and never keeps the good values of the same call out."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import heron
from conftest import ENTITY, rows_of


def only_row(project: str, run: heron.Run) -> dict:
    (row,) = rows_of(heron.Api().run(f"{ENTITY}/{project}/{run.id}"))
    return row


def test_nan_and_infinities_round_trip(project: str) -> None:
    run = heron.init(project=project)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these warrants a warning
        heron.log({"nan": float("nan"), "inf": float("inf"), "ninf": -math.inf, "np_nan": np.float32("nan"), "ok": 1.0})
    run.finish()
    row = only_row(project, run)
    assert math.isnan(row["nan"]) and math.isnan(row["np_nan"])
    assert row["inf"] == math.inf and row["ninf"] == -math.inf
    assert row["ok"] == 1.0
    frame = heron.Api().run(run.path).history()
    assert math.isnan(frame["nan"][0]) and frame["inf"][0] == math.inf
    steps, values, _ = heron.Api().run(run.path).series("ninf")
    assert list(steps) == [0] and list(values) == [-math.inf]


def test_huge_integers(project: str) -> None:
    run = heron.init(project=project)
    with pytest.warns(UserWarning) as caught:
        heron.log({"big": 2**70, "beyond": 2**53 + 1, "huge": 10**400, "ok": 5})
    messages = [str(w.message) for w in caught]
    assert any('"big"' in m and "float" in m for m in messages), messages
    assert any('"beyond"' in m and "2^53" in m for m in messages), messages
    assert any('"huge"' in m and "dropped" in m for m in messages), messages
    run.finish()
    row = only_row(project, run)
    assert row["big"] == float(2**70)
    assert row["beyond"] == float(2**53 + 1)
    assert "huge" not in row
    assert row["ok"] == 5


def test_unicode_keys_round_trip(project: str) -> None:
    run = heron.init(project=project)
    heron.log({"λ/損失": 0.5, "emoji 🚀": 1, "ключ": {"вложенный": 2}})
    run.finish()
    row = only_row(project, run)
    assert row["λ/損失"] == 0.5
    assert row["emoji 🚀"] == 1
    assert row["ключ.вложенный"] == 2
    keys = {k["key"] for k in heron.Api().run(run.path).keys()}
    assert keys >= {"λ/損失", "emoji 🚀", "ключ.вложенный"}


def test_a_too_long_key_is_dropped_with_a_warning(project: str) -> None:
    run = heron.init(project=project)
    long_key = "k" * 300
    with pytest.warns(UserWarning, match="300 bytes"):
        heron.log({long_key: 1.0, "ok": 2.0})
    run.finish()
    row = only_row(project, run)
    assert set(row) == {"_step", "_timestamp", "ok"} and row["ok"] == 2.0


def test_deep_nesting_warns(project: str) -> None:
    run = heron.init(project=project)
    deep: dict = {"leaf": 1.0}
    for _ in range(40):
        deep = {"d": deep}
    with pytest.warns(UserWarning, match="nested deeper"):
        heron.log({"deep": deep, "ok": 1.0})
    run.finish()
    row = only_row(project, run)
    assert row["ok"] == 1.0
    assert not any(k.endswith("leaf") for k in row)


def test_unsupported_objects_warn_naming_the_key(project: str) -> None:
    run = heron.init(project=project)
    with pytest.warns(UserWarning) as caught:
        heron.log({"thing": object(), "matrix": np.ones((2, 2)), "ok": 3.0, 7: "int key"})
    messages = [str(w.message) for w in caught]
    assert any('"thing"' in m and "object" in m for m in messages), messages
    assert any('"matrix"' in m and "(2, 2)" in m for m in messages), messages
    assert any("keys must be strings" in m for m in messages), messages
    heron.log({"ok": 4.0})
    run.finish()
    rows = rows_of(heron.Api().run(run.path))
    assert [{k: v for k, v in r.items() if k != "_timestamp"} for r in rows] == [
        {"_step": 0, "ok": 3.0},
        {"_step": 1, "ok": 4.0},
    ]


def test_reserved_keys_are_dropped_with_a_warning(project: str) -> None:
    run = heron.init(project=project)
    with pytest.warns(UserWarning, match="reserved"):
        heron.log({"_step": 10, "ok": 1.0})
    run.finish()
    row = only_row(project, run)
    assert row["_step"] == 0 and row["ok"] == 1.0


@pytest.mark.parametrize("bad", [[1, 2], "loss", 3.0, None, ("a", 1)])
def test_log_needs_a_dict(project: str, bad: object) -> None:
    heron.init(project=project)
    with pytest.raises((ValueError, TypeError), match=r"log\(\) takes a dict of values, not "):
        heron.log(bad)  # type: ignore[arg-type]


def test_the_run_goes_on_after_bad_values(project: str) -> None:
    run = heron.init(project=project)
    with pytest.warns(UserWarning):
        heron.log({"bad": object(), "x": 1.0})
    with pytest.raises(ValueError):
        heron.log(["not", "a", "dict"])  # type: ignore[arg-type]
    heron.log({"x": 2.0})
    run.finish()
    assert [r["x"] for r in rows_of(heron.Api().run(run.path))] == [1.0, 2.0]
    assert heron.Api().run(run.path).state == "finished"
