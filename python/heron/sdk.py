"""The run API: ``heron.init`` / ``log`` / ``finish`` and the ``Run`` object, wandb-style."""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _native
from ._console import ConsoleCapture

if TYPE_CHECKING:
    from .artifacts import Artifact

__all__ = [
    "Run",
    "init",
    "log",
    "finish",
    "save",
    "define_metric",
    "login",
    "Settings",
    "log_artifact",
    "use_artifact",
]

_current: Optional["Run"] = None
_hooks_installed = False


class Settings:
    """Per-run settings (all optional; environment variables give the defaults).

    finish_timeout: seconds ``finish()`` waits for the upload (HERON_FINISH_TIMEOUT, default 60).
    system_interval: seconds between system-metric samples; 0 turns them off (HERON_SYSTEM_INTERVAL, default 10).
    console: "wrap" records stdout/stderr, "off" does not (HERON_CONSOLE, default "wrap").
    git: record commit, remote and uncommitted diff (HERON_GIT, default True).
    host_metadata: record host, OS, program and arguments (HERON_HOST_METADATA, default True).
    packages: record the installed Python packages as requirements.txt (HERON_PACKAGES, default True).
    init_timeout: seconds ``init`` waits for the server before carrying on (HERON_INIT_TIMEOUT, default 10).
    base_url, api_key: the server (HERON_BASE_URL, HERON_API_KEY or the credentials file).
    """

    def __init__(
        self,
        *,
        finish_timeout: Optional[float] = None,
        system_interval: Optional[float] = None,
        console: Optional[str] = None,
        git: Optional[bool] = None,
        host_metadata: Optional[bool] = None,
        packages: Optional[bool] = None,
        init_timeout: Optional[float] = None,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        x_disable_stats: Optional[bool] = None,
        **_wandb_only: Any,
    ) -> None:
        # Other wandb.Settings fields (start_method, silent, ...) are accepted and have no effect.
        self.finish_timeout = finish_timeout
        self.system_interval = 0.0 if x_disable_stats else system_interval
        self.console = console or os.environ.get("HERON_CONSOLE", "wrap")
        if self.console not in ("wrap", "off"):
            raise ValueError(f'console must be "wrap" or "off", not {self.console!r}')
        self.git = git
        self.host_metadata = host_metadata
        env_packages = os.environ.get("HERON_PACKAGES", "1").lower() not in ("0", "false", "no", "off")
        self.packages = env_packages if packages is None else packages
        self.init_timeout = init_timeout
        self.base_url = base_url
        self.api_key = api_key


def _plain(value: Any) -> Any:
    """Argparse namespaces and other attribute bags become dicts."""
    if value is None or isinstance(value, Mapping):
        return value
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    raise TypeError(f"config must be a dict or an argparse.Namespace, not {type(value).__name__}")


class Config(MutableMapping):
    """The run's config: ``run.config.lr``, ``run.config["lr"]``, ``run.config.update({...})``."""

    def __init__(self, run: Optional["Run"], data: dict) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_data", dict(data))

    def _push(self, patch: dict) -> None:
        if self._run is not None:
            self._run._native.update_config(patch)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self._push({key: value})

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._push({key: None})

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def update(self, other: Any = None, allow_val_change: bool = True, **kwargs: Any) -> None:  # type: ignore[override]
        patch = dict(_plain(other) or {})
        patch.update(kwargs)
        if patch:
            self._data.update(patch)
            self._push(patch)

    def setdefaults(self, defaults: Mapping) -> None:
        patch = {k: v for k, v in defaults.items() if k not in self._data}
        self.update(patch)

    def as_dict(self) -> dict:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"Config({self._data!r})"


class Summary(MutableMapping):
    """The run's summary: each logged key's last value (or the aggregates ``define_metric`` asked
    for), and the values set here. A value set here stands until the key is logged again."""

    def __init__(self, run: Optional["Run"], data: dict) -> None:
        self._run = run
        # What the server held at init (a resumed run) and what was set here.
        self._data = dict(data)

    def _merged(self) -> dict:
        logged = self._run._native.summary() if self._run is not None else {}
        return {**self._data, **logged}

    def __getitem__(self, key: str) -> Any:
        return self._merged()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        if self._run is not None:
            self._run._native.update_summary({key: value})

    def __delitem__(self, key: str) -> None:
        merged = self._merged()
        if key not in merged:
            raise KeyError(key)
        self._data.pop(key, None)
        if self._run is not None:
            self._run._native.update_summary({key: None})

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged())

    def __len__(self) -> int:
        return len(self._merged())

    def update(self, other: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        patch = dict(other or {})
        patch.update(kwargs)
        if patch:
            self._data.update(patch)
            if self._run is not None:
                self._run._native.update_summary(patch)

    def __repr__(self) -> str:
        return f"Summary({self._merged()!r})"


class Run:
    """A run being logged. Made by ``heron.init()``; also a context manager."""

    def __init__(self, native: Any, settings: Settings, console: Optional[ConsoleCapture]) -> None:
        self._native = native
        self._settings = settings
        self._console = console
        info = native.info()
        self.id: str = info["id"]
        self.name: Optional[str] = info["name"]
        self.entity: Optional[str] = info["entity"]
        self.project: str = info["project"]
        self.dir: str = info["dir"]
        self.mode: str = info["mode"]
        self.resumed: bool = info["resumed"]
        self.offline: bool = info["mode"] == "offline"
        self.disabled: bool = info["mode"] == "disabled"
        self._base_url: str = info["base_url"]
        self.config = Config(self, info["config"] or {})
        self.summary = Summary(self, info["summary"] or {})
        self._finished = False
        # Bind the hot path directly: run.log is the native method, no Python frame in between.
        self.log = native.log  # type: ignore[method-assign]

    def log(self, data: dict, step: Optional[int] = None, commit: Optional[bool] = None) -> None:  # noqa: F811
        """Logs a dict of values at the current step (see ``heron.log``)."""
        self._native.log(data, step, commit)

    @property
    def step(self) -> int:
        """The step the next committed ``log`` writes."""
        return self._native.step

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def url(self) -> Optional[str]:
        return None if self.disabled else f"{self._base_url}/{self.entity}/{self.project}/runs/{self.id}"

    @property
    def tags(self) -> tuple:
        return tuple(self._tags)

    @tags.setter
    def tags(self, value: Any) -> None:
        self._tags = list(value)
        self._native.update_run({"tags": self._tags})

    @property
    def notes(self) -> str:
        return self._notes

    @notes.setter
    def notes(self, value: str) -> None:
        self._notes = value
        self._native.update_run({"notes": value})

    def define_metric(
        self,
        name: str,
        step_metric: Optional[str] = None,
        summary: Optional[str] = None,
        goal: Optional[str] = None,
        hidden: bool = False,
        **_ignored: Any,
    ) -> None:
        """How a metric is summarised and charted: ``summary`` is any of "min,max,mean,last,best,first,none";
        ``goal`` "minimize" / "maximize" picks "best"; ``step_metric`` is its x-axis; names may be globs ("val/*")."""
        self._native.define_metric(name, step_metric, summary, goal, hidden)

    def save(self, glob_str: Union[str, os.PathLike], base_path: Optional[str] = None, policy: str = "live") -> list:
        """Saves files with the run. A glob saves every match; ``base_path`` sets the folder names are relative to."""
        import glob as globlib

        pattern = os.fspath(glob_str)
        paths = sorted(p for p in globlib.glob(pattern, recursive=True) if os.path.isfile(p))
        if not paths:
            import warnings

            warnings.warn(f"heron.save: no file matches {pattern!r}", UserWarning, stacklevel=2)
            return []
        saved = []
        for path in paths:
            if base_path is not None:
                name = os.path.relpath(path, base_path)
            else:
                name = os.path.basename(path)
            saved.append(self._native.save(path, name.replace(os.sep, "/"), policy))
        return saved

    def log_artifact(
        self,
        artifact_or_path: Union["Artifact", str, os.PathLike],
        name: Optional[str] = None,
        type: Optional[str] = None,
        aliases: Optional[list] = None,
        tags: Optional[list] = None,
    ) -> "Artifact":
        """Logs an artifact version produced by this run and returns it (``.version`` set).

        A path (file or folder) makes an artifact of it: ``name`` defaults to the path's file
        name, ``type`` to "unspecified". Only files the server does not hold yet are uploaded;
        ``artifact.upload_report`` says how many bytes went and how many were already stored.
        The upload finishes before this returns. An offline run keeps the artifact in its folder
        (``artifact.staged`` is True, ``version`` None) and ``heron sync`` logs it later; its
        files must not change until then."""
        from .artifacts import Artifact

        if isinstance(artifact_or_path, Artifact):
            artifact = artifact_or_path
            if artifact.logged:
                raise ValueError(f"{artifact.qualified_name} is already logged; make a new heron.Artifact")
        else:
            path = os.fspath(artifact_or_path)
            if "://" in path:
                artifact = Artifact(name or _artifact_name(path.rstrip("/").rsplit("/", 1)[-1]), type or "unspecified")
                artifact.add_reference(path)
            else:
                artifact = Artifact(name or _artifact_name(os.path.basename(os.path.abspath(path))), type or "unspecified")
                if os.path.isdir(path):
                    artifact.add_dir(path)
                else:
                    artifact.add_file(path)
        report = self._native.log_artifact(
            artifact._native, artifact.name, artifact.type, artifact.description, artifact.metadata, list(aliases or [])
        )
        version = report.pop("version")
        artifact.upload_report = report
        if not version["version"]:
            # An offline run keeps it for `heron sync`: no version yet.
            artifact.staged = True
            return artifact
        artifact._set(self._native.artifacts(), version)
        return artifact

    def use_artifact(self, artifact_or_name: Union["Artifact", str], type: Optional[str] = None, **_ignored: Any) -> "Artifact":
        """Gets an artifact version (``"name:alias"``, ``"project/name:v1"``,
        ``"entity/project/name:v1"``; this run's project by default) and records that this run
        used it, for lineage. ``download()`` the returned artifact to get its files."""
        from .artifacts import Artifact

        reference = artifact_or_name.qualified_name if isinstance(artifact_or_name, Artifact) else str(artifact_or_name)
        info = self._native.use_artifact(reference)
        if type is not None and info["type"] != type:
            raise ValueError(f"{reference} is of type {info['type']!r}, not {type!r}")
        return Artifact._from_server(self._native.artifacts(), info)

    def link_artifact(self, artifact: "Artifact", target_path: str, aliases: Optional[list] = None) -> dict:
        """Links a logged artifact version into the model registry: ``target_path`` is
        ``"model-registry/NAME"`` (or ``"ENTITY/model-registry/NAME"``); the registered model is
        created when it does not exist. Returns the model version."""
        from .api import Api
        from .artifacts import parse_registry_path

        entity, model = parse_registry_path(target_path)
        api = Api(overrides={"entity": entity or self.entity, "base_url": self._base_url}, api_key=self._settings.api_key)
        try:
            registered = api.registered_model(model)
        except _native.HeronError as error:
            if getattr(error, "status", None) != 404:
                raise
            registered = api.create_registered_model(model)
        return registered.link(artifact, aliases)

    def finish(self, exit_code: Optional[int] = None, quiet: Optional[bool] = None) -> None:
        """Ends the run and waits (up to the finish timeout) for the upload; a non-zero exit code marks it failed."""
        global _current
        if self._finished:
            return
        self._finished = True
        if self._console is not None:
            self._console.stop()
        try:
            # Warns (with the `heron sync` command to run) when the upload is not complete.
            self._native.finish(int(exit_code or 0))
        finally:
            if _current is self:
                _current = None

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc_type is not None:
            import traceback

            traceback.print_exception(exc_type, exc, tb)
        self.finish(exit_code=1 if exc_type is not None else 0)
        return False

    def __repr__(self) -> str:
        return f"<heron.Run {self.path} ({self.mode})>"


def _artifact_name(text: str) -> str:
    """A valid artifact name from a file name (other characters become '-')."""
    import re

    name = re.sub(r"[^A-Za-z0-9_.-]", "-", text).lstrip(".")[:128]
    return name or "artifact"


def _python_metadata() -> dict:
    import platform

    main = sys.modules.get("__main__")
    program = getattr(main, "__file__", None)
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "program": os.path.abspath(program) if program else (sys.argv[0] if sys.argv and sys.argv[0] else "<interactive>"),
        "args": sys.argv[1:],
    }


def _record_packages(run: Run) -> None:
    """requirements.txt of the installed packages, gathered by a native thread (no GIL held)."""
    run._native.record_packages([p for p in sys.path if p])


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous = sys.excepthook

    def excepthook(exc_type: Any, exc: Any, tb: Any) -> None:
        run = _current
        if run is not None and not issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            run.finish(exit_code=1)
            return
        if run is not None:
            previous(exc_type, exc, tb)
            run.finish(exit_code=255)
            return
        previous(exc_type, exc, tb)

    sys.excepthook = excepthook
    # atexit is not told the exit status: remember what sys.exit() was given, so that a script
    # ending with sys.exit(1) marks its run failed (as wandb does).
    exit_status = [0]
    previous_exit = sys.exit

    def exit(status: Any = None) -> None:
        exit_status[0] = 0 if status is None else status if isinstance(status, int) else 1
        previous_exit(status)

    sys.exit = exit
    atexit.register(lambda: _current is not None and _current.finish(exit_code=exit_status[0]))


def init(
    project: Optional[str] = None,
    entity: Optional[str] = None,
    name: Optional[str] = None,
    id: Optional[str] = None,
    config: Any = None,
    tags: Optional[list] = None,
    notes: Optional[str] = None,
    group: Optional[str] = None,
    job_type: Optional[str] = None,
    mode: Optional[str] = None,
    dir: Optional[Union[str, os.PathLike]] = None,
    resume: Union[bool, str, None] = None,
    reinit: Optional[bool] = None,
    settings: Union[Settings, dict, None] = None,
    config_exclude_keys: Optional[list] = None,
    config_include_keys: Optional[list] = None,
    **_ignored: Any,
) -> Run:
    """Starts a run and returns it (also ``heron.run``).

    mode: "online" (default, HERON_MODE), "offline" (log locally; ``heron sync`` uploads later) or "disabled".
    resume: "allow" / True (continue the run ``id`` if it exists), "must" (it must exist), "never" (it must not).
    reinit: when a run is active, True finishes it and starts a new one; otherwise that run is returned.
    """
    global _current
    if _current is not None and not _current._finished:
        if not reinit:
            return _current
        _current.finish()
    if isinstance(settings, dict):
        settings = Settings(**settings)
    settings = settings or Settings()
    if resume is True or resume == "auto":
        resume = "allow"
    elif resume is False:
        resume = None
    config = dict(_plain(config) or {})
    if config_include_keys:
        config = {k: v for k, v in config.items() if k in config_include_keys}
    if config_exclude_keys:
        config = {k: v for k, v in config.items() if k not in config_exclude_keys}
    if mode in ("dryrun",):
        mode = "offline"
    native = _native.NativeRun(
        project=project,
        entity=entity,
        name=name,
        id=id,
        config=config,
        tags=list(tags) if tags is not None else None,
        notes=notes,
        group=group,
        job_type=job_type,
        resume=resume,
        metadata=_python_metadata() if settings.host_metadata is not False else None,
        mode=mode,
        dir=os.fspath(dir) if dir is not None else None,
        base_url=settings.base_url,
        api_key=settings.api_key,
        finish_timeout=settings.finish_timeout,
        system_interval=settings.system_interval,
        git=settings.git,
        host_metadata=settings.host_metadata,
        init_timeout=settings.init_timeout,
    )
    console = None
    info_mode = native.info()["mode"]
    if settings.console == "wrap" and info_mode != "disabled":
        console = ConsoleCapture(native.console_write)
        console.start()
    run = Run(native, settings, console)
    run._tags = list(tags or [])
    run._notes = notes or ""
    _current = run
    if info_mode != "disabled":
        _install_hooks()
        if settings.packages:
            _record_packages(run)
    return run


def _active() -> Run:
    if _current is None:
        raise RuntimeError("call heron.init() before logging")
    return _current


def log(data: dict, step: Optional[int] = None, commit: Optional[bool] = None) -> None:
    """Logs a dict of values as one row of history.

    Without ``step``, each call is one row at the next step. With ``step`` (which must not go
    back), values are merged into that step's row, which is written when a later step arrives
    (or ``commit=True``). ``commit=False`` keeps adding to the current row. Values: numbers,
    bools, strings, None, nested dicts (keys joined with "."), lists, numpy / torch scalars.
    NaN and infinities are kept. Bad values are dropped with a warning; never raises on network errors.
    """
    run = _current
    if run is None:
        raise RuntimeError("call heron.init() before heron.log()")
    run._native.log(data, step, commit)


def finish(exit_code: Optional[int] = None, quiet: Optional[bool] = None) -> None:
    """Ends the active run (see ``Run.finish``)."""
    if _current is not None:
        _current.finish(exit_code)


def save(glob_str: Union[str, os.PathLike], base_path: Optional[str] = None, policy: str = "live") -> list:
    """Saves files with the active run (see ``Run.save``)."""
    return _active().save(glob_str, base_path, policy)


def log_artifact(
    artifact_or_path: Any, name: Optional[str] = None, type: Optional[str] = None, aliases: Optional[list] = None
) -> Any:
    """``heron.run.log_artifact(...)`` of the active run."""
    return _active().log_artifact(artifact_or_path, name=name, type=type, aliases=aliases)


def use_artifact(artifact_or_name: Any, type: Optional[str] = None) -> Any:
    """``heron.run.use_artifact(...)`` of the active run."""
    return _active().use_artifact(artifact_or_name, type=type)


def define_metric(
    name: str,
    step_metric: Optional[str] = None,
    summary: Optional[str] = None,
    goal: Optional[str] = None,
    hidden: bool = False,
    **kwargs: Any,
) -> None:
    """Defines how a metric is summarised and charted (see ``Run.define_metric``)."""
    _active().define_metric(name, step_metric, summary, goal, hidden, **kwargs)


def login(key: Optional[str] = None, host: Optional[str] = None, relogin: Optional[bool] = None, **_ignored: Any) -> bool:
    """Checks an API key against the server and saves it in the credentials file; without a key,
    checks the one the SDK would use. Returns True when the server accepts it."""
    client = _native.Client(base_url=host, api_key=key)
    client.request("GET", "/api/v1/viewer")
    if key:
        _native.save_credentials(client.base_url, key)
    return True
