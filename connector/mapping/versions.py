"""Versioned field mappings, per account: the default file is version 0, every edit a new
numbered version in the database. Nothing is ever overwritten, so any two versions can be
compared and a rollback is simply a new version equal to an old one.

Two kinds of history share these functions, chosen by ``account_id``:

- ``account_id=None``: the defaults. Version 0 is the file under ``mappings/``; versions
  1, 2, ... are the operator's edits (admin token, CLI). Every account without a version
  of its own maps with the current default.
- ``account_id="..."``: one account's own mapping. Version 0 is the current default
  (whatever the operator last saved, or the file); versions 1, 2, ... are the account's
  edits, which no other account sees or uses. Rolling back to 0 saves a copy of the
  default as it is now.

Usage (``db`` is ``container.db``; ``root`` defaults to the ``mappings/`` folder)::

    from connector.mapping import versions

    versions.list_mappings(db, account_id=acme)      # [{"source", "object", "version", ...}]
    versions.list_versions(db, "hubspot", "contact", account_id=acme)  # newest first
    current = versions.get_version(db, "hubspot", "contact", account_id=acme)
    issues = versions.validate(db, "hubspot", "contact", yaml_text)   # [MappingIssue]
    new = versions.save_version(db, "hubspot", "contact", yaml_text,
                                author="ana@example.com", comment="map country codes",
                                account_id=acme)
    versions.diff(db, "hubspot", "contact", 0, new.version, account_id=acme)
    versions.rollback(db, "hubspot", "contact", 0, author="ana@example.com",
                      account_id=acme)
    versions.export(db, "hubspot", "contact", 2)     # YAML text of default v2

Every function takes ``root=`` (the folder of the default files); pass
``container.mappings.root`` when the registry was built on another folder than
``mappings/`` (tests, ``CONNECTOR_MAPPINGS_DIR``). Preview lives in
``connector.mapping.preview.preview(db, source, obj, payload, yaml_text=None,
account_id=None)``.

``save_version`` raises ``MappingError`` (``.issues``: line, field, message) when the text
is invalid and ``UnknownMapping`` for a source/object without a default file; an unknown
version number raises ``UnknownVersion``. Running executors use a saved version for their
next batch (see ``MappingRegistry``).
"""

from __future__ import annotations

import difflib
import random
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from connector.store import mapping_repository as repo
from connector.store.db import Database
from connector.store.models import MappingVersionRow

from .engine import MappingError, ObjectMapping, display_path, parse_mapping_text
from .registry import default_mappings_dir, notify_changed, version_origin
from .validation import MappingIssue, validate_text

__all__ = ["MappingVersion", "UnknownMapping", "UnknownVersion", "current_mapping", "diff",
           "export", "get_version", "list_mappings", "list_versions", "rollback",
           "save_version", "validate"]


_SAVE_ATTEMPTS = 20
#: the largest number the version column holds (32-bit on PostgreSQL)
MAX_VERSION = 2**31 - 1


class UnknownMapping(LookupError):
    """No default file for this source/object, so there is nothing to version."""


class UnknownVersion(LookupError):
    """The source/object exists but has no version with this number."""


@dataclass(frozen=True)
class MappingVersion:
    source: str
    object: str
    version: int
    yaml_text: str
    author: str
    comment: str
    created_at: datetime | None
    restored_from: int | None = None
    #: the account whose own version this is; None for the defaults
    account_id: str | None = None

    @property
    def is_default(self) -> bool:
        return self.version == 0

    @property
    def label(self) -> str:
        if self.version == 0:
            return "file" if self.account_id is None else "default"
        return f"v{self.version}"

    def mapping(self) -> ObjectMapping:
        return parse_mapping_text(self.yaml_text, version_origin(self.source, self.object,
                                                                 self.version),
                                  version=self.version, expected=(self.source, self.object))

    def as_dict(self, *, with_text: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source": self.source, "object": self.object, "version": self.version,
            "label": self.label, "author": self.author, "comment": self.comment,
            "created_at": (self.created_at.isoformat().replace("+00:00", "Z")
                           if self.created_at else None),
            "restored_from": self.restored_from, "account_id": self.account_id}
        if with_text:
            data["yaml"] = self.yaml_text
        return data


def _root(root: str | Path | None) -> Path:
    return Path(root) if root is not None else default_mappings_dir()


def _file(source: str, obj: str, root: str | Path | None) -> Path:
    path = _root(root) / source / f"{obj}.yaml"
    if "/" in source or "/" in obj or source.startswith(".") or obj.startswith(".") \
            or not path.is_file():
        raise UnknownMapping(f"no mapping for {source}/{obj}")
    return path


def _file_version(source: str, obj: str, root: str | Path | None) -> MappingVersion:
    path = _file(source, obj, root)
    return MappingVersion(source, obj, 0, path.read_text(), "file", display_path(path), None)


def _from_row(row: MappingVersionRow) -> MappingVersion:
    return MappingVersion(row.source, row.object, row.version, row.yaml_text, row.author,
                          row.comment, row.created_at, row.restored_from, row.account_id)


def _version_zero(db: Database, source: str, obj: str, root: str | Path | None,
                  account_id: str | None) -> MappingVersion:
    """The file for the defaults; the current default for an account."""
    if account_id is None:
        return _file_version(source, obj, root)
    default = get_version(db, source, obj, root=root)
    return replace(default, version=0, account_id=account_id, restored_from=None,
                   comment=f"the default ({default.label})")


def list_mappings(db: Database, *, root: str | Path | None = None,
                  account_id: str | None = None) -> list[dict[str, Any]]:
    """Every mapping with a default file, and its current version (without text)."""
    base = _root(root)
    with db.session() as session:
        latest = repo.latest_numbers(session, account_id)
    out = []
    for path in sorted(base.glob("*/*.yaml")):
        source, obj = path.parent.name, path.stem
        out.append(get_version(db, source, obj, latest.get((source, obj), 0), root=root,
                               account_id=account_id).as_dict(with_text=False))
    return out


def list_versions(db: Database, source: str, obj: str, *, root: str | Path | None = None,
                  account_id: str | None = None) -> list[MappingVersion]:
    """Every version, newest first; the last one is version 0 (the file, or for an
    account the current default)."""
    zero = _version_zero(db, source, obj, root, account_id)
    with db.session() as session:
        rows = repo.list_rows(session, source, obj, account_id)
        saved = [_from_row(r) for r in rows]
    return saved + [zero]


def get_version(db: Database, source: str, obj: str, version: int | None = None, *,
                root: str | Path | None = None,
                account_id: str | None = None) -> MappingVersion:
    """One version; ``None`` means the current (newest) one."""
    _file(source, obj, root)
    if version is not None and not 0 <= version <= MAX_VERSION:
        raise UnknownVersion(f"{source}/{obj} has no version {version}")
    with db.session() as session:
        number = (repo.latest_number(session, source, obj, account_id) if version is None
                  else version)
        row = repo.get_row(session, source, obj, number, account_id) if number else None
        found = _from_row(row) if row is not None else None
    if number == 0:
        return _version_zero(db, source, obj, root, account_id)
    if found is None:
        raise UnknownVersion(f"{source}/{obj} has no version {number}")
    return found


def current_mapping(db: Database, source: str, obj: str, *,
                    root: str | Path | None = None,
                    account_id: str | None = None) -> ObjectMapping:
    return get_version(db, source, obj, root=root, account_id=account_id).mapping()


def validate(db: Database | None, source: str, obj: str, yaml_text: str, *,
             root: str | Path | None = None) -> list[MappingIssue]:
    """Problems of a draft for this source/object (empty when it can be saved)."""
    _file(source, obj, root)
    _, issues = validate_text(yaml_text, f"{source}/{obj} (draft)", expected=(source, obj))
    return issues


def save_version(db: Database, source: str, obj: str, yaml_text: str, author: str,
                 comment: str = "", *, root: str | Path | None = None,
                 restored_from: int | None = None,
                 account_id: str | None = None) -> MappingVersion:
    """Validate and store a new version of the defaults (``account_id`` None: the
    operator's) or of one account's own mapping; it is current from now on."""
    issues = validate(db, source, obj, yaml_text, root=root)
    if issues:
        raise MappingError.from_issues(issues)
    if not author or not author.strip():
        raise ValueError("author is required")
    for attempt in range(_SAVE_ATTEMPTS):
        try:
            with db.session() as session:
                row = repo.add_row(session, source, obj, yaml_text, author.strip()[:200],
                                   comment or "", restored_from, account_id)
                saved = _from_row(row)
            break
        except IntegrityError:
            # another save took this number first (PostgreSQL); take the next one
            if attempt == _SAVE_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
    notify_changed()
    return saved


def rollback(db: Database, source: str, obj: str, version: int, author: str,
             comment: str | None = None, *, root: str | Path | None = None,
             account_id: str | None = None) -> MappingVersion:
    """Make ``version`` current again by saving a copy of it as a new version."""
    old = get_version(db, source, obj, version, root=root, account_id=account_id)
    return save_version(db, source, obj, old.yaml_text, author,
                        comment if comment else f"rollback to {old.label}", root=root,
                        restored_from=version, account_id=account_id)


def diff(db: Database, source: str, obj: str, a: int, b: int | None = None, *,
         root: str | Path | None = None, context: int = 3,
         account_id: str | None = None) -> str:
    """A unified diff from version ``a`` to version ``b`` (current when None); empty
    text when they are the same."""
    left = get_version(db, source, obj, a, root=root, account_id=account_id)
    right = get_version(db, source, obj, b, root=root, account_id=account_id)
    return "".join(difflib.unified_diff(
        _lines(left.yaml_text), _lines(right.yaml_text),
        fromfile=f"{source}/{obj} {left.label}", tofile=f"{source}/{obj} {right.label}",
        n=context))


def _lines(text: str) -> list[str]:
    return (text if text.endswith("\n") else text + "\n").splitlines(keepends=True)


def export(db: Database, source: str, obj: str, version: int | None = None, *,
           root: str | Path | None = None, account_id: str | None = None) -> str:
    """The YAML text of a version (current when None), ready to become the new default
    file: ``connector mappings show`` prints the same."""
    text = get_version(db, source, obj, version, root=root, account_id=account_id).yaml_text
    return text if text.endswith("\n") else text + "\n"
