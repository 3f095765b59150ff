"""Structured logs: one JSON object per line, with the inbox event id being processed.

``CONNECTOR_LOG_FORMAT=json`` (or ``connector --log-format json``) switches the root handler
to :class:`JsonFormatter`. Code that works on one event wraps it in ``bind_event(id)``; the
id travels through a ``contextvars.ContextVar``, so every line logged underneath (the
dispatch, the CRM client, a retry warning) carries it without being passed around, and
threads never see each other's ids. Known secret values are masked before a line is written,
as a last line of defence: code should never log them in the first place.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

EVENT_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("event_id", default=None)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
MASK = "***"


_factory_installed = False


def _install_record_factory() -> None:
    """Stamp ``event_id`` on each record when it is created, so handlers that format later
    (queues, test capture) still see the id that was bound at the time."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        event_id = EVENT_ID.get()
        if event_id and not hasattr(record, "event_id"):
            record.event_id = event_id
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


@contextmanager
def bind_event(event_id: str | None) -> Iterator[None]:
    """Log lines inside carry ``event_id``."""
    _install_record_factory()
    token = EVENT_ID.set(event_id)
    try:
        yield
    finally:
        EVENT_ID.reset(token)


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, event_id (when bound), extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event_id = getattr(record, "event_id", None) or EVENT_ID.get()
        if event_id:
            data["event_id"] = event_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in data:
                data[key] = value if isinstance(value, (str, int, float, bool)) else repr(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class RedactSecrets(logging.Filter):
    """Replace known secret values in a record's rendered message and exception."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = self._mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        return True


def secret_values(config: object) -> list[str]:
    """Every secret setting of a ``Config`` (the fields hidden from its repr)."""
    from dataclasses import fields

    values = [getattr(config, f.name) for f in fields(config)  # type: ignore[arg-type]
              if not f.repr and getattr(config, f.name)]
    # a list setting (several secrets during a rotation) masks each of its values
    return [v for value in values for v in (value if isinstance(value, tuple) else (value,))]


def configure(fmt: str | None = None, level: str | int = "INFO",
              secrets: Iterable[str | None] = ()) -> None:
    """Set up the root logger: ``fmt`` "json" or "text" (default from CONNECTOR_LOG_FORMAT)."""
    fmt = (fmt or os.environ.get("CONNECTOR_LOG_FORMAT") or "text").lower()
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    handler.set_name("connector")
    root = logging.getLogger()
    for old in list(root.handlers):  # ours from an earlier call; others' stay (test capture)
        if old.get_name() == "connector":
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


#: loggers that do not pass their records to the root's handlers, or may get a handler of
#: their own: the access and error logs, which print request paths, and an Outbound
#: Message's path holds a secret of SALESFORCE_OUTBOUND_SECRETS
ACCESS_LOGGERS = ("gunicorn.access", "gunicorn.error", "werkzeug")


def protect(secrets: Iterable[str | None]) -> None:
    """Add secret masking to every handler the root logger has now, and to the access and
    error loggers of gunicorn and Werkzeug, whose lines do not go through the root's
    handlers (gunicorn's do not propagate; Werkzeug adds a handler of its own when the
    root has none)."""
    redact = RedactSecrets(secrets)
    if not redact.secrets:
        return
    for name in ACCESS_LOGGERS:
        _merge_filter(logging.getLogger(name), redact)
    for handler in logging.getLogger().handlers:
        _merge_filter(handler, redact)


def _merge_filter(target: logging.Filterer, redact: RedactSecrets) -> None:
    """Give ``target`` ``redact``'s secrets, in the masking filter it already has if any."""
    known = [f for f in target.filters if isinstance(f, RedactSecrets)]
    if known:
        merged = RedactSecrets([*known[0].secrets, *redact.secrets])
        known[0].secrets = merged.secrets
    else:
        target.addFilter(RedactSecrets(redact.secrets))


@contextmanager
def quieter(levels: dict[str, int]) -> Iterator[None]:
    """Raise some loggers' levels for the length of a block (a demo's noise), then put back
    what they were: the process, a test run for one, goes on logging as before."""
    before = {name: logging.getLogger(name).level for name in levels}
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
