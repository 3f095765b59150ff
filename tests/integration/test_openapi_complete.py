"""Every route of the root app is described in /openapi.json, with each of its methods.

The admin console's pages, static files and the ``/v1`` API (which serves its own
``/v1/openapi.json``) are not part of this document."""

from __future__ import annotations

import re
from dataclasses import replace

from connector.bootstrap import bootstrap
from connector.web import create_app

EXCLUDED_PREFIXES = ("/admin", "/static", "/v1/")


def _template(path: str) -> str:
    """Flask's ``/routers/<router_id>`` and OpenAPI's ``/routers/{id}`` both as
    ``/routers/{}``: parameter names may differ, their places may not."""
    return re.sub(r"\{[^{}]+\}", "{}", re.sub(r"<[^<>]+>", "{}", path))


def test_every_route_is_in_the_openapi_document(config):
    # every optional part switched on, so its routes are mounted
    container = bootstrap(replace(config, hubspot_client_secret="s", hubspot_client_id="c",
                                  public_url="http://localhost",
                                  salesforce_webhook_secret="w" * 32,
                                  salesforce_org_id="00D000000000001"))
    try:
        app = create_app(container=container)
        paths = app.test_client().get("/openapi.json").get_json()["paths"]
        documented = {_template(path): operations for path, operations in paths.items()}
        missing = []
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith(EXCLUDED_PREFIXES) or rule.endpoint == "static":
                continue
            path = _template(rule.rule)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                if method.lower() not in documented.get(path, {}):
                    missing.append(f"{method} {path}")
        assert not missing, f"routes missing from /openapi.json: {missing}"
        assert len(paths) > 20  # the check saw the real document
    finally:
        container.close()
