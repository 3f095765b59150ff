"""Where the current mapping of each source/object comes from.

The files under ``mappings/`` are the defaults (version 0). With a database, the newest
version saved wins, and a running process picks a new version up for the next batch
without a restart: ``get`` re-checks the version numbers at most once per ``ttl`` seconds
per mapping (one indexed ``max()`` query), and at once after a save in the same process
(``notify_changed``).

Mappings are per account: executors ask for ``get(source, object, account_id)`` with the
account of the record they map. An account's own newest version wins; without one, the
operator's newest version of the defaults; without that, the file. ``account_id=None``
gives the defaults.
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
    #: (the account's newest version, the defaults' newest version) it was loaded for
    numbers: tuple[int, int]


class MappingRegistry:
    """The current mapping of each source/object, cached. ``db`` is optional: without it
    only the files count (unit tests, ``connector mappings validate``)."""

    def __init__(self, root: str | Path | None = None, db: Database | None = None, *,
                 ttl: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = Path(root) if root is not None else default_mappings_dir()
        self.db = db
        self.ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str | None, str, str], _Entry] = {}
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

    def get(self, source: str, obj: str, account_id: str | None = None) -> ObjectMapping:
        """The mapping ``account_id``'s records are mapped with (the defaults for None)."""
        key = (account_id, source, obj)
        now = self._clock()
        with self._lock:
            entry = self._cache.get(key)
        generation = _generation
        if entry is not None and (self.db is None or (
                now - entry.checked_at < self.ttl and entry.generation == generation)):
            return entry.mapping
        numbers = self._current_numbers(source, obj, account_id)
        if entry is not None and entry.numbers == numbers:
            mapping = entry.mapping
        else:
            mapping = self._load(source, obj, numbers, account_id)
        with self._lock:
            self._cache[key] = _Entry(mapping, now, generation, numbers)
        return mapping

    def invalidate(self, source: str | None = None, obj: str | None = None) -> None:
        """Forget cached mappings (all, or one source/object of every account) so the
        next ``get`` reloads."""
        with self._lock:
            if source is None:
                self._cache.clear()
            else:
                for key in [k for k in self._cache if k[1:] == (source, obj or "")]:
                    del self._cache[key]

    def _current_numbers(self, source: str, obj: str,
                         account_id: str | None) -> tuple[int, int]:
        if self.db is None:
            return 0, 0
        from connector.store import mapping_repository

        with self.db.read_session() as session:
            return mapping_repository.latest_pair(session, source, obj, account_id)

    def _load(self, source: str, obj: str, numbers: tuple[int, int],
              account_id: str | None) -> ObjectMapping:
        own, default = numbers
        if own:
            return self._load_row(source, obj, own, account_id)
        if default:
            return self._load_row(source, obj, default, None)
        return self.load_file(source, obj)

    def _load_row(self, source: str, obj: str, version: int,
                  account_id: str | None) -> ObjectMapping:
        from connector.store import mapping_repository

        assert self.db is not None
        with self.db.read_session() as session:
            row = mapping_repository.get_row(session, source, obj, version, account_id)
            text = row.yaml_text if row is not None else None
        origin = version_origin(source, obj, version)
        if account_id is not None:
            origin += f" of account {account_id}"
        if text is None:
            raise MappingError([f"{origin}: not found"])
        return parse_mapping_text(text, origin, version=version, expected=(source, obj))
