"""What every answer of the app says about itself, and whom it believes about the request.

* Trusted proxies: with ``CONNECTOR_TRUSTED_PROXIES=N`` the last N values of
  ``X-Forwarded-For``/``-Proto``/``-Host`` are believed (Werkzeug's ``ProxyFix``), so
  behind a TLS proxy such as Heroku's router the app sees ``https://the-public-host/...``:
  HubSpot's v3 signature (computed over that URI) verifies and the console's cookie is
  ``Secure``. With 0 (the default) the headers are ignored: a client could set them.
* Headers: the console gets a Content Security Policy allowing only its own scripts and
  styles (no inline script), no framing (``frame-ancestors 'none'``, ``X-Frame-Options:
  DENY``), ``nosniff`` and ``Referrer-Policy``; the JSON API gets the same with a policy
  allowing nothing, as it serves no page.
* Every 429 carries ``Retry-After``: a view that knows the wait sets it, the rest get a
  conservative default so a client never retries blindly.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from connector.config import Config

CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DEFAULT_RETRY_AFTER = "60"


def _headers(response: Response) -> Response:
    console = request.path == "/admin" or request.path.startswith("/admin/")
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONSOLE_CSP if console else API_CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin" if console else "no-referrer")
    if response.status_code == 429:
        headers.setdefault("Retry-After", DEFAULT_RETRY_AFTER)
    return response


class _SessionInterface(SecureCookieSessionInterface):
    """The console's cookie is ``Secure`` whenever the request came over HTTPS (seen
    through the trusted proxies), not only when ``CONNECTOR_PUBLIC_URL`` says https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure)


def register(app: Flask, config: Config) -> None:
    """Install the proxy fix (when proxies are trusted) and the response headers."""
    if config.trusted_proxies:
        n = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n,  # type: ignore
                                x_port=n, x_prefix=0)
    app.session_interface = _SessionInterface()
    app.after_request(_headers)
