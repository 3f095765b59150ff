"""The Flask application factory. ``create_app()`` reads the environment; tests pass a
``Config`` or a dict of overrides (and may pass a ready ``Container``)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from connector.bootstrap import Container, bootstrap
from connector.config import Config, ConfigError, check_jwt_secret


def create_app(config: Config | dict[str, Any] | None = None, *,
               container: Container | None = None, start_executor: bool | None = None) -> Flask:
    if container is None:
        base = Config.from_env()
        if isinstance(config, Config):
            base = config
        elif isinstance(config, dict):
            base = base.with_overrides(config)
        check_jwt_secret(base.jwt_secret)  # before anything starts
        if start_executor is None:
            start_executor = base.executor in ("threads", "celery")
        container = bootstrap(base, start_executor=start_executor)
    check_jwt_secret(container.config.jwt_secret)
    if container.config.trusted_proxies < 0:
        raise ConfigError("CONNECTOR_TRUSTED_PROXIES must be 0 or more (the number of "
                          "proxies in front of the app that set X-Forwarded-*)")

    app = Flask(__name__)
    from . import security

    security.register(app, container.config)
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
    from . import v1

    v1.register(app)
    for hook in container.extras.get("blueprints", []):
        hook(app)
    return app
