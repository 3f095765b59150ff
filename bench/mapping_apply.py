"""How much a mapping costs per record, and what ``MappingRegistry.get`` costs per batch.

    python bench/mapping_apply.py [--records 20000]

Prints records per second for the default HubSpot contact mapping and for a mapping that
uses every transform, and the time of a cached ``get`` and of a ``get`` that re-checks the
version in SQLite (what happens once a second per mapping).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from connector.mapping import MappingRegistry, parse_mapping_text
from connector.store.db import Database

RICH = """source: hubspot
object: contact
owner: {field: contact_owner, property: hubspot_owner_id}
fields:
  email: {source: email, required: true, transforms: [trim, lower]}
  domain: {source: email, transforms: [trim, lower, {regex: "@(.+)$"}]}
  name: {sources: [firstname, lastname], transforms: [trim, {join: " "}]}
  country: {source: country, transforms: [trim, {map: {"United States": US}}, {default: XX}]}
  tags: {source: tags, transforms: [{split: ";"}, lower]}
  employees: {source: numemployees, type: integer}
  revenue: {source: annualrevenue, type: number}
  created: {source: createdate, type: datetime}
  tier: {source: tier, type: enum, values: [gold, silver, bronze]}
  city: address.city
"""


def record(n: int) -> dict:
    return {"email": f" User{n}@Example.com ", "firstname": "Ada", "lastname": f"L{n}",
            "country": "United States", "tags": "VIP;Partner", "numemployees": str(n % 900),
            "annualrevenue": "1250000.50", "createdate": "1709632800000", "tier": "Gold",
            "address": {"city": "Oslo"}, "hubspot_owner_id": "77"}


def rate(mapping, records) -> float:
    start = time.perf_counter()
    for r in records:
        mapping.apply(r)
    return len(records) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    records = [record(n) for n in range(args.records)]
    default = MappingRegistry().get("hubspot", "contact")
    rich = parse_mapping_text(RICH, "bench")
    print(f"apply, default hubspot/contact ({len(default.fields)} fields): "
          f"{rate(default, records):,.0f} records/s")
    print(f"apply, every transform and type ({len(rich.fields)} fields): "
          f"{rate(rich, records):,.0f} records/s")

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.migrate()
        cached = MappingRegistry(db=db, ttl=3600)
        cached.get("hubspot", "contact")
        n = 100000
        start = time.perf_counter()
        for _ in range(n):
            cached.get("hubspot", "contact")
        print(f"registry.get, cached: {(time.perf_counter() - start) / n * 1e6:.2f} µs")
        checking = MappingRegistry(db=db, ttl=0)
        checking.get("hubspot", "contact")
        n = 500
        start = time.perf_counter()
        for _ in range(n):
            checking.get("hubspot", "contact")
        print(f"registry.get, re-checking the version in SQLite: "
              f"{(time.perf_counter() - start) / n * 1e3:.2f} ms")
        db.dispose()


if __name__ == "__main__":
    main()
