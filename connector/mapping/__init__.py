"""Field mappings: how a CRM record becomes the fields a router's trigger looks at.

One YAML file per source and object (``mappings/hubspot/contact.yaml``), validated against
``mappings/schema.json``; admins' edits are versions in the database
(``connector.mapping.versions``). The interface the connectors rely on::

    registry = MappingRegistry(db=db)            # files under mappings/ + saved versions
    mapping = registry.get("hubspot", "contact")  # cheap: cached, re-checked once a second
    mapping.properties                           # CRM properties to fetch, derived from fields
    mapping.apply(record_properties)             # -> {field: value}; raises MappingError
    mapping.owner_field, mapping.owner_property  # "contact_owner", "hubspot_owner_id"
    mapping.version                              # 0 = the default file, N = saved version
"""

from .engine import (
    FieldSpec,
    MappingError,
    ObjectMapping,
    load_mapping_file,
    parse_mapping,
    parse_mapping_text,
)
from .registry import MappingRegistry, default_mappings_dir, notify_changed
from .validation import MappingIssue

__all__ = ["FieldSpec", "MappingError", "MappingIssue", "MappingRegistry", "ObjectMapping",
           "default_mappings_dir", "load_mapping_file", "notify_changed", "parse_mapping",
           "parse_mapping_text"]
