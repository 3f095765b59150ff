"""Where the current mapping of each source/object comes from."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .engine import MappingError, ObjectMapping, load_mapping_file


def default_mappings_dir() -> Path:
    configured = os.environ.get("CONNECTOR_MAPPINGS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "mappings"


class MappingRegistry:
    """The mapping files under ``root``, loaded once each and cached."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_mappings_dir()
        self._cache: dict[tuple[str, str], ObjectMapping] = {}
        self._lock = threading.Lock()

    def path_for(self, source: str, obj: str) -> Path:
        return self.root / source / f"{obj}.yaml"

    def get(self, source: str, obj: str) -> ObjectMapping:
        key = (source, obj)
        with self._lock:
            if key not in self._cache:
                path = self.path_for(source, obj)
                if not path.exists():
                    raise MappingError([f"no mapping for {source}/{obj} (looked for {path})"])
                self._cache[key] = load_mapping_file(path)
            return self._cache[key]
