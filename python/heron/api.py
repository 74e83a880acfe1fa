"""Reading back: ``heron.Api()``, wandb-style (``api.runs(path, filters)``, ``api.run(path)``,
``run.history()``, ``run.scan_history()``, files)."""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional, Union
from urllib.parse import quote

from . import _native

if TYPE_CHECKING:
    from .artifacts import Artifact, RegisteredModel

__all__ = ["Api", "ApiRun", "RunFile"]


def _q(text: str) -> str:
    return quote(str(text), safe="")


class Api:
    """A client for one server (HERON_BASE_URL and the SDK's API key unless given).

    ``overrides`` accepts wandb's {"entity": ..., "project": ...} defaults for paths.
    """

    def __init__(
        self,
        overrides: Optional[dict] = None,
        timeout: float = 30.0,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
    ) -> None:
        overrides = overrides or {}
        self._base_url = base_url or overrides.get("base_url")
        self._api_key = api_key
        self._client = _native.Client(base_url=self._base_url, api_key=api_key, timeout=timeout)
        self._artifact_client: Optional[Any] = None
        self._entity: Optional[str] = overrides.get("entity") or os.environ.get("HERON_ENTITY") or None
        self._project: Optional[str] = overrides.get("project") or os.environ.get("HERON_PROJECT") or None

    # -- plumbing ---------------------------------------------------------------------------
    def _get(self, path: str) -> Any:
        return json.loads(self._client.request("GET", path))

    def _send(self, method: str, path: str, body: Any) -> Any:
        return json.loads(self._client.request(method, path, json.dumps(body).encode()))

    @property
    def default_entity(self) -> str:
        if self._entity is None:
            viewer = self._get("/api/v1/viewer")
            self._entity = (viewer.get("entities") or [viewer["name"]])[0]
        return self._entity

    def _split(self, path: str, parts: int) -> list:
        """'entity/project[/run]' with missing leading parts filled from the defaults."""
        pieces = [p for p in str(path).replace(":", "/").split("/") if p]
        if pieces[-2:-1] == ["runs"]:
            pieces = pieces[:-2] + pieces[-1:]
        if len(pieces) == parts - 1:
            if parts == 3 and self._project and len(pieces) == 1:
                pieces = [self.default_entity, self._project] + pieces
            else:
                pieces = [self.default_entity] + pieces
        elif len(pieces) == parts - 2 and parts == 3 and self._project:
            pieces = [self.default_entity, self._project] + pieces
        if len(pieces) != parts:
            want = "entity/project/run_id" if parts == 3 else "entity/project"
            raise ValueError(f"path must look like {want!r}, got {path!r}")
        return pieces

    # -- public -----------------------------------------------------------------------------
    def runs(
        self,
        path: Optional[str] = None,
        filters: Optional[str] = None,
        order: Optional[str] = None,
        per_page: int = 1000,
    ) -> "Runs":
        """Runs of a project, newest first unless ``order`` says otherwise.

        ``filters`` is a Heron run query, e.g. ``'config.lr > 0.01 and state = "finished"'``;
        ``order`` a sort such as ``"summary.val_loss"`` or ``"-created_at"`` (wandb's leading "-"
        means descending)."""
        if path is None:
            if not self._project:
                raise ValueError("give a path 'entity/project' (or set HERON_PROJECT)")
            path = self._project
        entity, project = self._split(path, 2)
        if filters is not None and not isinstance(filters, str):
            raise TypeError("filters must be a Heron run query string, e.g. 'config.lr > 0.01'")
        if order and order.startswith(("-", "+")):
            order = order[1:] + (" desc" if order[0] == "-" else "")
        return Runs(self, entity, project, filters, order, per_page)

    def run(self, path: str) -> "ApiRun":
        """One run by 'entity/project/run_id'."""
        entity, project, run_id = self._split(path, 3)
        data = self._get(f"/api/v1/projects/{_q(entity)}/{_q(project)}/runs/{_q(run_id)}")
        return ApiRun(self, data)

    def projects(self, entity: Optional[str] = None) -> list:
        entity = entity or self.default_entity
        return self._get(f"/api/v1/entities/{_q(entity)}/projects")

    def viewer(self) -> dict:
        return self._get("/api/v1/viewer")

    # -- artifacts and the model registry ---------------------------------------------------
    def _artifacts(self) -> Any:
        if self._artifact_client is None:
            self._artifact_client = _native.ArtifactClient(
                base_url=self._base_url, api_key=self._api_key, entity=self._entity, project=self._project
            )
        return self._artifact_client

    def _artifact_ref(self, name: str) -> str:
        """'[entity/][project/]name[:version]' with the defaults filled in."""
        path, _, version = str(name).partition(":")
        pieces = [p for p in path.split("/") if p]
        if len(pieces) == 1:
            if not self._project:
                raise ValueError(f"give the project: 'project/{name}' or 'entity/project/{name}' (or set HERON_PROJECT)")
            pieces = [self._project] + pieces
        if len(pieces) == 2:
            pieces = [self.default_entity] + pieces
        if len(pieces) != 3:
            raise ValueError(f"artifact name must look like 'entity/project/name:version', got {name!r}")
        return "/".join(pieces) + ":" + (version or "latest")

    def artifact(self, name: str, type: Optional[str] = None) -> "Artifact":
        """An artifact version: ``"entity/project/name:alias"`` (entity and project default to
        the overrides, HERON_ENTITY / HERON_PROJECT and the key's user; version to latest)."""
        from .artifacts import Artifact

        client = self._artifacts()
        info = client.get(self._artifact_ref(name))
        if type is not None and info["type"] != type:
            raise ValueError(f"{name} is of type {info['type']!r}, not {type!r}")
        return Artifact._from_server(client, info)

    def artifacts(self, type_name: Optional[str] = None, name: str = "", per_page: int = 50) -> list:
        """Every version of an artifact (``"entity/project/name"``), newest first."""
        from .artifacts import Artifact

        if not name and type_name and "/" in type_name:
            type_name, name = None, type_name
        entity, project, rest = self._artifact_ref(name).split("/", 2)
        artifact_name = rest.split(":", 1)[0]
        client = self._artifacts()
        versions = self._get(f"/api/v1/projects/{_q(entity)}/{_q(project)}/artifacts/{_q(artifact_name)}/versions")
        return [Artifact._from_server(client, v) for v in versions if type_name in (None, v["type"])]

    def artifact_versions(self, type_name: Optional[str] = None, name: str = "", per_page: int = 50) -> list:
        """The same as ``artifacts(type_name, name)`` (wandb's older name)."""
        return self.artifacts(type_name, name, per_page)

    def artifact_collections(self, project: Optional[str] = None, type_name: Optional[str] = None) -> list:
        """The artifacts of a project ('entity/project'): dicts with name, type, versions, latest, size."""
        entity, project_name = self._split(project or self._project or "", 2)
        query = f"?type={_q(type_name)}" if type_name else ""
        return self._get(f"/api/v1/projects/{_q(entity)}/{_q(project_name)}/artifacts{query}")

    def storage(self, project: Optional[str] = None) -> dict:
        """Where a project's artifact storage went (logical, stored and exclusive bytes per artifact)."""
        entity, project_name = self._split(project or self._project or "", 2)
        return self._get(f"/api/v1/projects/{_q(entity)}/{_q(project_name)}/storage")

    def create_registered_model(self, name: str, description: Optional[str] = None, entity: Optional[str] = None) -> "RegisteredModel":
        from .artifacts import RegisteredModel

        entity = entity or self.default_entity
        data = self._send("POST", f"/api/v1/entities/{_q(entity)}/models", {"name": name, "description": description})
        return RegisteredModel(self, data)

    def registered_model(self, name: str, entity: Optional[str] = None) -> "RegisteredModel":
        """A registered model by name (``"NAME"``, ``"ENTITY/NAME"`` or ``"model-registry/NAME"``)."""
        from .artifacts import RegisteredModel

        pieces = [p for p in str(name).split("/") if p and p != "model-registry"]
        if len(pieces) == 2:
            entity, name = pieces
        else:
            name = pieces[-1]
        entity = entity or self.default_entity
        return RegisteredModel(self, self._get(f"/api/v1/entities/{_q(entity)}/models/{_q(name)}"))

    def registered_models(self, entity: Optional[str] = None) -> list:
        from .artifacts import RegisteredModel

        entity = entity or self.default_entity
        return [RegisteredModel(self, m) for m in self._get(f"/api/v1/entities/{_q(entity)}/models")]


class Runs:
    """A lazily paged list of runs; iterate it, index it or take its ``len()``."""

    def __init__(self, api: Api, entity: str, project: str, filters: Optional[str], order: Optional[str], per_page: int):
        self._api = api
        self.entity = entity
        self.project = project
        self._params = {"filter": filters, "sort": order, "limit": str(max(1, min(per_page, 10_000)))}
        self._runs: list = []
        self._cursor: Optional[str] = None
        self._done = False
        self._total: Optional[int] = None

    def _more(self) -> bool:
        if self._done:
            return False
        params = {k: v for k, v in self._params.items() if v is not None}
        if self._cursor:
            params["cursor"] = self._cursor
        query = "&".join(f"{k}={_q(v)}" for k, v in params.items())
        page = self._api._get(f"/api/v1/projects/{_q(self.entity)}/{_q(self.project)}/runs?{query}")
        self._runs.extend(ApiRun(self._api, r) for r in page["runs"])
        self._total = page.get("total", self._total)
        self._cursor = page.get("next_cursor")
        self._done = not self._cursor
        return bool(page["runs"])

    def __iter__(self) -> Iterator["ApiRun"]:
        i = 0
        while True:
            while i < len(self._runs):
                yield self._runs[i]
                i += 1
            if not self._more():
                return

    def __len__(self) -> int:
        if self._total is None:
            self._more()
        return int(self._total or 0)

    def __getitem__(self, index: int) -> "ApiRun":
        while index >= len(self._runs) and self._more():
            pass
        return self._runs[index]


class RunFile:
    def __init__(self, run: "ApiRun", data: dict) -> None:
        self._run = run
        self.name: str = data["path"]
        self.size: int = data["size"]
        self.sha256: str = data["sha256"]
        self.updated_at: str = data["updated_at"]

    def download(self, root: str = ".", replace: bool = False, exist_ok: bool = False) -> str:
        """Downloads into ``root`` (atomically: no partial file on interruption); returns the path."""
        dest = os.path.join(root, *self.name.split("/"))
        if os.path.exists(dest) and not replace:
            if exist_ok:
                return dest
            raise FileExistsError(f"{dest} exists; pass replace=True to overwrite it")
        remote = "/".join(_q(p) for p in self.name.split("/"))
        self._run._api._client.download(f"{self._run._path}/files/{remote}", dest)
        return dest

    def __repr__(self) -> str:
        return f"<RunFile {self.name} ({self.size} bytes)>"


class ApiRun:
    """A stored run: its fields, config, summary, history and files."""

    def __init__(self, api: Api, data: dict) -> None:
        self._api = api
        self._load(data)

    def _load(self, data: dict) -> None:
        self._data = data
        self.entity: str = data["entity"]
        self.project: str = data["project"]
        self.id: str = data["id"]
        self.name: str = data["name"]
        self.state: str = data["state"]
        self.config: dict = data.get("config") or {}
        self.summary: dict = _plain_json(data.get("summary") or {})
        self.tags: list = data.get("tags") or []
        self.notes: str = data.get("notes") or ""
        self.group: Optional[str] = data.get("group")
        self.job_type: Optional[str] = data.get("job_type")
        self.metadata: dict = data.get("metadata") or {}
        self.created_at: str = data.get("created_at", "")
        self.heartbeat_at: str = data.get("heartbeat_at", "")
        self.exit_code: Optional[int] = data.get("exit_code")
        self.last_step: Optional[int] = data.get("last_step")
        self._path = f"/api/v1/projects/{_q(self.entity)}/{_q(self.project)}/runs/{_q(self.id)}"

    @property
    def path(self) -> list:
        return [self.entity, self.project, self.id]

    def load(self) -> "ApiRun":
        """Refreshes the fields from the server."""
        self._load(self._api._get(self._path))
        return self

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def keys(self) -> list:
        """The run's history keys with their kind, count and step range."""
        return self._api._get(f"{self._path}/history/keys")

    def series(self, key: str, min_step: Optional[int] = None, max_step: Optional[int] = None) -> tuple:
        """One numeric key at full resolution, fast: ``(steps, values, times)`` as ``array.array``
        ('q', 'd', 'd'; time NaN where unknown). Wrap them with ``numpy.asarray`` for free."""
        query = f"key={_q(key)}"
        if min_step is not None:
            query += f"&min_step={int(min_step)}"
        if max_step is not None:
            query += f"&max_step={int(max_step)}"
        raw_steps, raw_values, raw_times = self._api._client.series(f"{self._path}/history/series?{query}")
        steps, values, times = array("q"), array("d"), array("d")
        steps.frombytes(raw_steps)
        values.frombytes(raw_values)
        times.frombytes(raw_times)
        return steps, values, times

    def _scan(
        self,
        keys: Optional[list] = None,
        page_size: int = 1000,
        min_step: Optional[int] = None,
        max_step: Optional[int] = None,
    ) -> Iterator[dict]:
        """Rows as stored, paged by step (those of ``keys`` carry at least ``_timestamp``)."""
        query = {"limit": str(max(1, min(int(page_size), 100_000)))}
        if keys:
            query["keys"] = ",".join(keys)
        if max_step is not None:
            query["max_step"] = str(int(max_step))
        next_step = min_step
        while True:
            params = dict(query)
            if next_step is not None:
                params["min_step"] = str(int(next_step))
            page = self._api._get(f"{self._path}/history?" + "&".join(f"{k}={_q(v)}" for k, v in params.items()))
            for row in page["rows"]:
                yield {k: _value(v) for k, v in row.items()}
            next_step = page.get("next_step")
            if next_step is None:
                return

    def scan_history(
        self,
        keys: Optional[list] = None,
        page_size: int = 1000,
        min_step: Optional[int] = None,
        max_step: Optional[int] = None,
    ) -> Iterator[dict]:
        """Every row (exact, unsampled), one dict per step with ``_step`` and ``_timestamp``; with
        ``keys``, only the rows that have all of them (as wandb)."""
        for row in self._scan(keys, page_size, min_step, max_step):
            if not keys or all(k in row for k in keys):
                yield row

    def history(
        self,
        keys: Optional[list] = None,
        samples: Optional[int] = 500,
        pandas: bool = True,
        x_axis: str = "_step",
        stream: str = "default",
    ) -> Any:
        """History rows: all of them when ``samples`` is None or there are no more than ``samples``,
        else ``samples`` rows evenly spread over the run (first and last included). A pandas
        DataFrame when pandas is installed and ``pandas=True``, else a list of dicts."""
        if stream == "system" or stream == "events":
            rows = self._system_rows(keys)
        elif keys and self._all_numeric(keys, x_axis):
            rows = self._rows_from_series(list(dict.fromkeys(list(keys) + ([x_axis] if x_axis not in ("_step", "_timestamp") else []))))
        else:
            rows = list(self._scan(keys, 100_000))
        if keys:
            wanted = set(keys) | {"_step", "_timestamp", x_axis}
            rows = [{k: v for k, v in r.items() if k in wanted} for r in rows if any(k in r for k in keys)]
        if samples is not None and len(rows) > samples > 0:
            if samples == 1:
                rows = rows[-1:]
            else:
                last = len(rows) - 1
                picks = sorted({round(i * last / (samples - 1)) for i in range(samples)})
                rows = [rows[i] for i in picks]
        if pandas:
            try:
                import pandas as pd  # noqa: PLC0415 - optional, imported on use
            except ImportError:
                return rows
            return pd.DataFrame.from_records(rows)
        return rows

    def _all_numeric(self, keys: list, x_axis: str) -> bool:
        """Whether every requested key holds only numbers (then the columnar reads serve it)."""
        kinds: dict = {}
        for info in self.keys():
            if info.get("stream", "history") == "history":
                kinds.setdefault(info["key"], set()).add(info["kind"])
        wanted = set(keys) | ({x_axis} - {"_step", "_timestamp"})
        return all(kinds.get(k) == {"scalar"} for k in wanted)

    def _rows_from_series(self, keys: list) -> list:
        """Row dicts merged by step from each key's full-resolution column."""
        merged: dict = {}
        for key in keys:
            steps, values, times = self.series(key)
            for step, value, time in zip(steps, values, times):
                row = merged.get(step)
                if row is None:
                    row = merged[step] = {"_step": step, "_timestamp": time}
                row[key] = value
        return [merged[s] for s in sorted(merged)]

    def _system_rows(self, keys: Optional[list]) -> list:
        query = "limit=100000" + (f"&keys={_q(','.join(keys))}" if keys else "")
        page = self._api._get(f"{self._path}/system?{query}")
        return [{k: _value(v) for k, v in row.items()} for row in page["rows"]]

    def files(self) -> list:
        return [RunFile(self, f) for f in self._api._get(f"{self._path}/files")]

    def file(self, name: str) -> RunFile:
        for f in self.files():
            if f.name == name:
                return f
        raise FileNotFoundError(f"run {self.id} has no file {name!r}")

    def console(self, tail: Optional[int] = None) -> list:
        """Console lines as dicts (index, stream, text, time)."""
        query = f"?tail={int(tail)}" if tail else ""
        return self._api._get(f"{self._path}/console{query}")["lines"]

    def update(self, **fields: Any) -> "ApiRun":
        """Changes name, tags, notes, group or job_type."""
        self._load(self._api._send("PATCH", self._path, fields))
        return self

    def __repr__(self) -> str:
        return f"<ApiRun {self.entity}/{self.project}/{self.id} ({self.state})>"


_SPECIAL = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _plain_json(v: Any) -> Any:
    """The API's "NaN" / "Infinity" / "-Infinity" strings as floats, all through a document."""
    if isinstance(v, dict):
        return {k: _plain_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain_json(x) for x in v]
    return _value(v)


def _value(v: Union[float, str, Any]) -> Any:
    if isinstance(v, str):
        return _SPECIAL.get(v, v)
    return v
