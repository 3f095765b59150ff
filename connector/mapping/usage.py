"""Where mapped fields meet routers: which mappings feed an object type, which trigger
fields a mapping edit drops, and which trigger fields no mapping produces.

Routers' triggers read mapped field names, not CRM properties, so renaming or dropping a
field in a mapping silently makes a trigger condition look at nothing. These checks turn
that into warnings (never errors: an admin may be about to change the router too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.store import mapping_repository as repo
from connector.store.db import Database

from . import versions
from .engine import MappingError, ObjectMapping, parse_mapping_text


def mappings_for(db: Database, object_type: str, *, root: str | Path | None = None,
                 account_id: str | None = None) -> list[ObjectMapping]:
    """The current mapping (``account_id``'s, or the defaults) of every source/object
    that feeds ``object_type``."""
    out = []
    for item in versions.list_mappings(db, root=root, account_id=account_id):
        try:
            mapping = versions.current_mapping(db, item["source"], item["object"], root=root,
                                               account_id=account_id)
        except MappingError:
            continue
        if mapping.object_type == object_type:
            out.append(mapping)
    return out


def trigger_fields(settings: Mapping[str, Any] | None) -> list[str]:
    """The field names a router's trigger conditions read, each once, in order."""
    seen: dict[str, None] = {}
    trigger = (settings or {}).get("trigger") or {}
    for group in trigger.get("groups") or ():
        for condition in group.get("conditions") or ():
            if isinstance(condition, Mapping) and condition.get("field"):
                seen.setdefault(str(condition["field"]), None)
    return list(seen)


@dataclass(frozen=True)
class DroppedField:
    """A router whose trigger reads a field the edited mapping no longer produces."""

    router_id: str
    account_id: str
    router_name: str
    published: bool
    field: str
    mapping: str

    @property
    def text(self) -> str:
        state = "published" if self.published else "unpublished"
        return (f"router '{self.router_name}' ({state}) uses field '{self.field}', which "
                f"this version no longer maps")

    def as_dict(self) -> dict[str, Any]:
        return {"router_id": self.router_id, "account_id": self.account_id,
                "router": self.router_name, "published": self.published,
                "field": self.field, "message": self.text}


def dropped_fields(db: Database, source: str, obj: str, yaml_text: str, *,
                   root: str | Path | None = None,
                   account_id: str | None = None) -> list[DroppedField]:
    """Routers whose trigger uses a field that the current version of ``source/obj``
    maps and ``yaml_text`` does not (dropped or renamed): ``account_id``'s routers for an
    edit of its own mapping; for an edit of the defaults (None), the routers of every
    account that maps with the defaults. Empty when the text does not parse: its errors
    say more."""
    try:
        draft = parse_mapping_text(yaml_text, expected=(source, obj))
    except MappingError:
        return []
    current = versions.current_mapping(db, source, obj, root=root, account_id=account_id)
    kept = {f.name for f in draft.fields} if draft.object_type == current.object_type \
        else set()
    dropped = {f.name for f in current.fields} - kept
    if not dropped:
        return []
    with db.read_session() as session:
        own = set() if account_id is not None else repo.accounts_with_own(session, source, obj)
        routers = [(r.id, r.account_id, r.name, r.published, r.settings)
                   for r in repo.routers_of_type(session, current.object_type, account_id)
                   if r.account_id not in own]
    return [DroppedField(router_id, account_id, name, published, field, f"{source}/{obj}")
            for router_id, account_id, name, published, settings in routers
            for field in trigger_fields(settings) if field in dropped]


def sample_record(mappings: Iterable[ObjectMapping],
                  settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """A record to simulate a router on: every mapped field of its object type, with a
    value that satisfies the trigger's first conditions where one is obvious."""
    values: dict[str, Any] = {}
    trigger = (settings or {}).get("trigger") or {}
    for group in trigger.get("groups") or ():
        for condition in group.get("conditions") or ():
            field, value = condition.get("field"), condition.get("value")
            operator = condition.get("operator")
            if not field or field in values:
                continue
            if operator in ("in", "between") and isinstance(value, list) and value:
                values[field] = value[0]
            elif operator in ("equals", "contains", "starts_with", "ends_with", "gt", "gte",
                              "lt", "lte"):
                values[field] = value
            elif operator == "is_known":
                values[field] = "yes"
    sample: dict[str, Any] = dict(values)
    for mapping in mappings:
        for spec in mapping.fields:
            sample.setdefault(spec.name, None)
    return sample
