"""No CRM call is written inside a ``with db.session()`` block.

A session holds SQLite's process-wide write lock (and a dispatch holds its router's row
lock on PostgreSQL): a HubSpot, Salesforce or Interaction Service call made inside one
would stall every other thread, the webhook acknowledgements included, for as long as
the CRM takes. This reads the source, so a new call in the wrong place fails here even
when no test happens to make the CRM slow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import connector

#: the ports' methods (connector.core.ports) and the functions that call them
CRM_CALLS = {
    "read_records", "owner_id_for_email", "write_owners", "route", "assign_agent_work",
    "cancel_route", "queue_id", "refresh_owners", "exchange_code", "hub_id_for",
    "hubspot_owner_id", "route_records", "execute", "offer", "resume", "sync", "_sync",
    "_owner_id", "_owned_as_we_left_it", "_write", "dispatch", "dispatch_many", "choose",
    "write_back",
}
#: modules whose functions of those names only touch the database
STORE_PREFIXES = ("session.", "hs_repo.", "store.", "repo.", "admin_repo.", "sources_repo.")


def _in_session_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.With) or not any(
                ast.unparse(item.context_expr).endswith(".session()") for item in node.items):
            continue
        for sub in ast.walk(ast.Module(body=node.body, type_ignores=[])):
            if not isinstance(sub, ast.Call):
                continue
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            text = ast.unparse(func)
            if name in CRM_CALLS and not text.startswith(STORE_PREFIXES):
                found.append(f"{path.name}:{sub.lineno} {text}()")
    return found


def test_no_crm_call_inside_a_session():
    root = Path(connector.__file__).parent
    offenders = [hit for path in sorted(root.rglob("*.py")) for hit in _in_session_calls(path)]
    assert offenders == []


def test_the_check_finds_a_call_in_a_session(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f(db, client):\n    with db.session() as session:\n"
                      "        client.read_records('contact', [], [])\n")
    assert _in_session_calls(sample) == ["sample.py:3 client.read_records()"]
