"""Field mappings: how a CRM record becomes the fields a router's trigger looks at.

One YAML file per source and object (``mappings/hubspot/contact.yaml``). The interface the
connectors rely on::

    registry = MappingRegistry()                 # files under mappings/ (or CONNECTOR_MAPPINGS_DIR)
    mapping = registry.get("hubspot", "contact")
    mapping.properties                           # CRM properties to fetch, derived from fields
    mapping.apply(record_properties)             # -> {field: value}; raises MappingError
    mapping.owner_field, mapping.owner_property  # "contact_owner", "hubspot_owner_id"
"""

from .engine import FieldSpec, MappingError, ObjectMapping, load_mapping_file, parse_mapping
from .registry import MappingRegistry, default_mappings_dir

__all__ = ["FieldSpec", "MappingError", "MappingRegistry", "ObjectMapping",
           "default_mappings_dir", "load_mapping_file", "parse_mapping"]
