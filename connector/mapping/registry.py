"""Where the current mapping of each source/object comes from.

The files under ``mappings/`` are the defaults (version 0). With a database, the newest
version an admin saved wins, and a running process picks a new version up for the next
batch without a restart: ``get`` re-checks the version number at most once per ``ttl``
seconds per mapping (one indexed ``max()`` query), and at once after a save in the same
process (``notify_changed``). Mappings are global, one per source and object: the
connectors ask for ``get(source, object)`` with no account, and one deployment serves one
company's CRM objects.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .engine import MappingError, ObjectMapping, load_mapping_file, parse_mapping_text

if TYPE_CHECKING:
    from connector.store.db import Database

_generation = 0
_generation_lock = threading.Lock()


def notify_changed() -> None:
    """Tell every registry in this process that a version was saved."""
    global _generation
    with _generation_lock:
        _generation += 1


def default_mappings_dir() -> Path:
    configured = os.environ.get("CONNECTOR_MAPPINGS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "mappings"


def version_origin(source: str, obj: str, version: int) -> str:
    """How errors name a stored version: ``hubspot/contact v3``."""
    return f"{source}/{obj} v{version}"


@dataclass
class _Entry:
    mapping: ObjectMapping
    checked_at: float
    generation: int


class MappingRegistry:
    """The current mapping of each source/object, cached. ``db`` is optional: without it
    only the files count (unit tests, ``connector mappings validate``)."""

    def __init__(self, root: str | Path | None = None, db: Database | None = None, *,
                 ttl: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = Path(root) if root is not None else default_mappings_dir()
        self.db = db
        self.ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    def path_for(self, source: str, obj: str) -> Path:
        return self.root / source / f"{obj}.yaml"

    def known(self) -> list[tuple[str, str]]:
        """Every (source, object) with a default file, sorted."""
        return sorted((p.parent.name, p.stem) for p in self.root.glob("*/*.yaml"))

    def load_file(self, source: str, obj: str) -> ObjectMapping:
        path = self.path_for(source, obj)
        if not path.exists():
            raise MappingError([f"no mapping for {source}/{obj} (looked for {path})"])
        return load_mapping_file(path)

    def get(self, source: str, obj: str) -> ObjectMapping:
        key = (source, obj)
        now = self._clock()
        with self._lock:
            entry = self._cache.get(key)
        generation = _generation
        if entry is not None and (self.db is None or (
                now - entry.checked_at < self.ttl and entry.generation == generation)):
            return entry.mapping
        version = self._current_number(source, obj)
        if entry is not None and entry.mapping.version == version:
            mapping = entry.mapping
        else:
            mapping = self._load(source, obj, version)
        with self._lock:
            self._cache[key] = _Entry(mapping, now, generation)
        return mapping

    def invalidate(self, source: str | None = None, obj: str | None = None) -> None:
        """Forget cached mappings (all, or one) so the next ``get`` reloads."""
        with self._lock:
            if source is None:
                self._cache.clear()
            else:
                self._cache.pop((source, obj or ""), None)

    def _current_number(self, source: str, obj: str) -> int:
        if self.db is None:
            return 0
        from connector.store import mapping_repository

        with self.db.read_session() as session:
            return mapping_repository.latest_number(session, source, obj)

    def _load(self, source: str, obj: str, version: int) -> ObjectMapping:
        if version == 0:
            return self.load_file(source, obj)
        from connector.store import mapping_repository

        assert self.db is not None
        with self.db.read_session() as session:
            row = mapping_repository.get_row(session, source, obj, version)
            text = row.yaml_text if row is not None else None
        if text is None:
            raise MappingError([f"{version_origin(source, obj, version)}: not found"])
        return parse_mapping_text(text, version_origin(source, obj, version), version=version,
                                  expected=(source, obj))
