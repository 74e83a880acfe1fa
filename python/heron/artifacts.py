"""Artifacts and the model registry, wandb-style.

    artifact = heron.Artifact("mnist", type="dataset", metadata={"rows": 70000})
    artifact.add_dir("data/mnist")
    run.log_artifact(artifact, aliases=["baseline"])

    data = run.use_artifact("mnist:baseline")
    path = data.download()

Uploads send only the files the server does not hold yet and resume an interrupted upload;
downloads verify every file's sha256 before it appears under its name. Both run in Rust with
the GIL released.
"""

from __future__ import annotations

import os
import re
from typing import Any, Optional, Union

from . import _native

__all__ = ["Artifact", "RegisteredModel", "parse_registry_path"]


class Artifact:
    """A versioned set of files. Build one with ``add_file`` / ``add_dir`` / ``add_reference``
    and log it with ``run.log_artifact``; or get a logged version from ``run.use_artifact`` or
    ``heron.Api().artifact``, then ``download()`` it.

    Once logged or fetched, ``version`` (``"v3"``), ``aliases``, ``digest`` (equal digests mean
    equal contents), ``size``, ``file_count``, ``entity``, ``project`` and ``qualified_name``
    (``entity/project/name:v3``) are set."""

    def __init__(
        self,
        name: str,
        type: str,
        description: Optional[str] = None,
        metadata: Optional[dict] = None,
    ) -> None:
        self._native = _native.NativeArtifact(name, type)
        self.name: str = name
        self.type: str = type
        self.description: Optional[str] = description
        self.metadata: dict = dict(metadata or {})
        self._info: Optional[dict] = None
        self._client: Optional[Any] = None
        #: What the last ``log_artifact`` of this artifact did: files, uploaded_bytes,
        #: deduplicated_bytes (already stored), resumed_bytes, uploaded_blobs.
        self.upload_report: Optional[dict] = None
        #: True when an offline run kept it for ``heron sync`` (no version yet).
        self.staged: bool = False

    # -- building ---------------------------------------------------------------------------
    def _building(self) -> None:
        if self._info is not None:
            raise ValueError(
                f"{self.qualified_name} is a logged version and cannot change; make a new heron.Artifact"
            )

    def add_file(self, local_path: Union[str, os.PathLike], name: Optional[str] = None) -> None:
        """Adds a file as ``name`` (default: its file name), a relative '/' path in the artifact."""
        self._building()
        self._native.add_file(os.fspath(local_path), name)

    def add_dir(self, local_path: Union[str, os.PathLike], name: Optional[str] = None) -> None:
        """Adds every file under a folder, at its relative path under ``name`` (default: the root)."""
        self._building()
        self._native.add_dir(os.fspath(local_path), name)

    def add_reference(
        self, uri: str, name: Optional[str] = None, checksum: bool = True, digest: Optional[str] = None
    ) -> None:
        """Records a file by URI without uploading it: ``s3://``, ``gs://``, ``https://``,
        ``http://`` (with ``digest``: a checksum or ETag, if you have one) or ``file://`` (a file
        or a folder; its sha256 is computed when logged, unless ``checksum=False``)."""
        self._building()
        self._native.add_reference(uri, name, checksum, digest)

    # -- a logged version -------------------------------------------------------------------
    @classmethod
    def _from_server(cls, client: Any, info: dict) -> "Artifact":
        artifact = cls.__new__(cls)
        artifact._native = None
        artifact.name = info["name"]
        artifact.type = info["type"]
        artifact.description = info.get("description")
        artifact.metadata = info.get("metadata") or {}
        artifact.upload_report = None
        artifact.staged = False
        artifact._set(client, info)
        return artifact

    def _set(self, client: Any, info: dict) -> None:
        self._client = client
        self._info = info
        self.description = info.get("description")
        self.metadata = info.get("metadata") or {}

    def _logged(self) -> dict:
        if self._info is None:
            raise ValueError(f"artifact {self.name!r} is not logged yet: log it with run.log_artifact(artifact)")
        return self._info

    @property
    def logged(self) -> bool:
        return self._info is not None

    @property
    def version(self) -> Optional[str]:
        return self._info["version"] if self._info else None

    @property
    def aliases(self) -> list:
        return list(self._info["aliases"]) if self._info else []

    @property
    def digest(self) -> Optional[str]:
        return self._info["digest"] if self._info else None

    @property
    def size(self) -> Optional[int]:
        if self._info:
            return self._info["size"]
        return sum(e["size"] for e in self._native.entries())

    @property
    def file_count(self) -> int:
        return self._info["file_count"] if self._info else len(self._native.entries())

    @property
    def entity(self) -> Optional[str]:
        return self._info["entity"] if self._info else None

    @property
    def project(self) -> Optional[str]:
        return self._info["project"] if self._info else None

    @property
    def created(self) -> Optional[bool]:
        """False when logging matched an existing version's contents (no new version was made)."""
        return self._info.get("created") if self._info else None

    @property
    def run(self) -> Optional[str]:
        """The id of the run that produced this version."""
        return self._info.get("run") if self._info else None

    @property
    def qualified_name(self) -> str:
        if not self._info:
            return self.name
        i = self._info
        return f"{i['entity']}/{i['project']}/{i['name']}:{i['version']}"

    def files(self) -> list:
        """The files: for a logged version, dicts from the server (path, size, sha256 or
        reference and digest); before logging, what was added (path, source, size, reference)."""
        if self._info is None:
            return self._native.entries()
        return self._client.files(self._info)

    def download(self, root: Optional[Union[str, os.PathLike]] = None) -> str:
        """Downloads the version's files into ``root`` (default ``./artifacts/NAME-vN``) and
        returns that folder. Every file is verified by sha256 before it appears under its name;
        ``file://`` references are copied, other references are not downloaded (see
        ``last_download["skipped_references"]``)."""
        info = self._logged()
        if root is None:
            root = os.path.join("artifacts", f"{info['name']}-{info['version']}")
        report = self._client.download(info, os.fspath(root))
        self.last_download = report
        return report["root"]

    def lineage(self, direction: str = "both", depth: int = 10) -> dict:
        """The runs and versions this version came from (``up``) and led to (``down``)."""
        info = self._logged()
        path = (
            f"/api/v1/projects/{_q(info['entity'])}/{_q(info['project'])}/artifacts/{_q(info['name'])}"
            f"/versions/{_q(info['version'])}/lineage?direction={_q(direction)}&depth={int(depth)}"
        )
        return _json(self._client.request("GET", path))

    def _version_path(self) -> str:
        info = self._logged()
        return (
            f"/api/v1/projects/{_q(info['entity'])}/{_q(info['project'])}/artifacts/{_q(info['name'])}"
            f"/versions/{_q(info['version'])}"
        )

    def save(self) -> "Artifact":
        """Stores changes to ``description`` and ``metadata`` of a logged version (its files
        never change)."""
        import json

        body = json.dumps({"description": self.description, "metadata": self.metadata}).encode()
        self._set(self._client, _json(self._client.request("PATCH", self._version_path(), body)))
        return self

    def delete(self) -> None:
        """Deletes this version (refused while it is linked in the model registry); its bytes
        are freed by the server's garbage collection once no version holds them."""
        self._client.request("DELETE", self._version_path())

    def __repr__(self) -> str:
        return f"<Artifact {self.qualified_name} ({self.type})>"


class RegisteredModel:
    """A registered model: versions that link artifact versions, aliases, an audit trail."""

    def __init__(self, api: Any, data: dict) -> None:
        self._api = api
        self._load(data)

    def _load(self, data: dict) -> None:
        self._data = data
        self.entity: str = data["entity"]
        self.name: str = data["name"]
        self.description: Optional[str] = data.get("description")
        self.versions: list = data.get("versions") or []

    @property
    def _path(self) -> str:
        return f"/api/v1/entities/{_q(self.entity)}/models/{_q(self.name)}"

    @property
    def aliases(self) -> dict:
        """alias -> model version (``{"production": "v2"}``)."""
        return {a: v["version"] for v in self.versions for a in v.get("aliases", [])}

    def load(self) -> "RegisteredModel":
        self._load(self._api._get(self._path))
        return self

    def link(self, artifact: Union[Artifact, str], aliases: Optional[list] = None) -> dict:
        """Links an artifact version (a logged ``Artifact`` or ``"project/name:v1"`` /
        ``"entity/project/name:alias"``) as the model's next version; returns it."""
        ref = artifact.qualified_name if isinstance(artifact, Artifact) else str(artifact)
        if isinstance(artifact, Artifact):
            artifact._logged()
        version = self._api._send("POST", f"{self._path}/versions", {"artifact": ref, "aliases": list(aliases or [])})
        self.load()
        return version

    def set_alias(self, alias: str, version: str) -> dict:
        """Points ``alias`` at a model version (``"v1"``), moving it from where it was."""
        moved = self._api._send("PUT", f"{self._path}/aliases/{_q(alias)}", {"version": version})
        self.load()
        return moved

    def remove_alias(self, alias: str) -> None:
        self._api._client.request("DELETE", f"{self._path}/aliases/{_q(alias)}")
        self.load()

    def unlink(self, version: str) -> None:
        self._api._client.request("DELETE", f"{self._path}/versions/{_q(version)}")
        self.load()

    def audit(self) -> list:
        """Who created it, linked or unlinked versions and moved aliases, and when; oldest first."""
        return self._api._get(f"{self._path}/audit")

    def version(self, alias_or_version: str) -> dict:
        for v in self.versions:
            if v["version"] == alias_or_version or alias_or_version in v.get("aliases", []):
                return v
        raise KeyError(f"model {self.name} has no version or alias {alias_or_version!r}")

    def __repr__(self) -> str:
        return f"<RegisteredModel {self.entity}/{self.name} ({len(self.versions)} versions)>"


_REGISTRY = re.compile(r"^(?:(?P<entity>[^/]+)/)?model-registry/(?P<model>[^/:]+)$")


def parse_registry_path(target: str) -> tuple:
    """``"model-registry/NAME"`` or ``"ENTITY/model-registry/NAME"`` -> (entity or None, NAME)."""
    found = _REGISTRY.match(target)
    if not found:
        raise ValueError(f"link target must look like 'model-registry/NAME' or 'ENTITY/model-registry/NAME', not {target!r}")
    return found.group("entity"), found.group("model")


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(str(text), safe="")


def _json(raw: bytes) -> Any:
    import json

    return json.loads(raw)
