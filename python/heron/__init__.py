"""Heron: experiment tracking with a wandb-style API on a Rust core.

    import heron
    run = heron.init(project="mnist", config={"lr": 0.01})
    for step in range(1000):
        heron.log({"loss": loss, "acc": acc})
    heron.finish()

``import heron as wandb`` runs typical wandb code. Importing heron loads no numpy, torch or pandas.
"""

from __future__ import annotations

from typing import Any, Optional

from . import _native
from ._native import HeronError
from .api import Api
from .artifacts import Artifact
from .sdk import Run, Settings, define_metric, finish, init, log, log_artifact, login, save, use_artifact

__version__: str = _native.__version__

__all__ = [
    "Api",
    "Artifact",
    "HeronError",
    "cache_cleanup",
    "Run",
    "Settings",
    "config",
    "define_metric",
    "finish",
    "init",
    "log",
    "log_artifact",
    "login",
    "run",
    "save",
    "summary",
    "sync",
    "use_artifact",
]


def cache_cleanup(max_size: Any = None) -> tuple:
    """Shrinks the artifact download cache (HERON_CACHE_DIR) to ``max_size`` (bytes, or "500MB",
    "10GB"; default HERON_CACHE_SIZE, else 10 GB), least recently used first; returns
    (files removed, bytes freed)."""
    return _native.cache_cleanup(max_size)


def sync(dirs: Optional[list] = None, base_url: Optional[str] = None, api_key: Optional[str] = None) -> list:
    """Uploads offline or interrupted run folders (all unfinished ones under HERON_DIR by default);
    the same as the ``heron sync`` command. Returns one dict per folder with its status."""
    return _native.sync([str(d) for d in (dirs or [])], base_url=base_url, api_key=api_key, verbose=True)


def __getattr__(name: str) -> Any:
    # wandb.run / wandb.config / wandb.summary follow the active run.
    from . import sdk

    if name == "run":
        return sdk._current
    if name in ("config", "summary"):
        if sdk._current is None:
            raise AttributeError(f"heron.{name} needs an active run: call heron.init() first")
        return getattr(sdk._current, name)
    raise AttributeError(f"module 'heron' has no attribute {name!r}")
