"""The Flask application factory. ``create_app()`` reads the environment; tests pass a
``Config`` or a dict of overrides (and may pass a ready ``Container``)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from connector.bootstrap import Container, bootstrap
from connector.config import Config, ConfigError


def create_app(config: Config | dict[str, Any] | None = None, *,
               container: Container | None = None, start_executor: bool | None = None) -> Flask:
    if container is None:
        base = Config.from_env()
        if isinstance(config, Config):
            base = config
        elif isinstance(config, dict):
            base = base.with_overrides(config)
        if start_executor is None:
            start_executor = base.executor in ("threads", "celery")
        container = bootstrap(base, start_executor=start_executor)
    if not container.config.jwt_secret:
        raise ConfigError("CONNECTOR_JWT_SECRET is not set; the API cannot verify tokens "
                          "without it")

    app = Flask(__name__)
    app.config["CONTAINER"] = container
    app.config["MAX_CONTENT_LENGTH"] = container.config.max_body_bytes
    app.json.sort_keys = False

    from . import api, errors, health, limits, manage, openapi

    errors.register(app)
    limits.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(openapi.bp)
    from . import admin

    admin.register(app)
    from .mappings import bp as mappings_bp

    app.register_blueprint(mappings_bp)
    from . import metrics

    app.register_blueprint(metrics.bp)
    from connector.logs import protect, secret_values

    protect(secret_values(container.config))
    from . import events as events_api
    from . import hubspot as hubspot_web

    hubspot_web.register(app)
    app.register_blueprint(events_api.bp)
    for hook in container.extras.get("blueprints", []):
        hook(app)
    return app
