"""Bounds every request is held to before a view sees it, whatever the route.

- The path, the query string and form fields may not contain NUL characters: PostgreSQL
  text cannot hold them (SQLite would store them), so refusing them here makes both
  databases answer the same 400.
- A JSON body (any route, the webhooks included) is parsed once here with its nesting
  capped at ``MAX_JSON_DEPTH``; strings (keys included) may not hold NUL characters or
  unpaired UTF-16 surrogates (``"\\ud800"``: valid JSON, but not encodable as UTF-8, so
  no database or log can take it); integers must fit a signed 64-bit column.

Each refusal is a 400 naming where the bad value was (``Invalid field 'users.0.name':
...``). Malformed JSON is left to the view, which says what it expected. The walk is
iterative and linear in the body's size, which ``MAX_CONTENT_LENGTH`` already caps.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request

from .errors import ApiError

MAX_JSON_DEPTH = 32
MAX_INT = 2**63 - 1
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored (None when it can)."""
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    return ("contains a NUL character" if found.group() == "\x00"
            else "contains an unpaired UTF-16 surrogate (not valid Unicode text)")


def _name(path: list[str | int]) -> str:
    return ".".join(map(str, path)) or "(body)"


def check_json(data: Any) -> None:
    """Raise ``ApiError(400)`` naming the first value nested too deep, a string that
    cannot be stored, or an integer no column can hold."""
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict | list) and len(path) >= MAX_JSON_DEPTH:
            raise ApiError(400, f"Invalid field '{_name(path)}': nested deeper than "
                                f"{MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key)
                if problem:
                    raise ApiError(400, f"Invalid field '{_name([*path, repr(key)])}': "
                                        f"its name {problem}")
                stack.append((item, [*path, key]))
        elif isinstance(value, list):
            stack.extend((item, [*path, index]) for index, item in enumerate(value))
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise ApiError(400, f"Invalid field '{_name(path)}': {problem}")
        elif isinstance(value, int) and not isinstance(value, bool) \
                and not -MAX_INT - 1 <= value <= MAX_INT:
            raise ApiError(400, f"Invalid field '{_name(path)}': the number is too large "
                                f"(at most {MAX_INT})")


def _looks_like_json(body: bytes) -> bool:
    """JSON views parse bodies whatever the Content-Type says (``json_body``)."""
    return request.is_json or body.lstrip()[:1] in (b"{", b"[")


def check_request() -> None:
    """The ``before_request`` guard."""
    problem = text_problem(request.path)
    if problem:
        raise ApiError(400, f"Invalid path: {problem}")
    for key, value in request.args.items(multi=True):
        problem = text_problem(key) or text_problem(value)
        if problem:
            raise ApiError(400, f"Invalid query parameter '{key[:60]}': {problem}")
    if request.content_length == 0 or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    # read and kept first: form parsing then reads this copy, and a view that parses the
    # body as JSON whatever the Content-Type still finds it
    body = request.get_data(cache=True)  # 413 above MAX_CONTENT_LENGTH, as before
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            problem = text_problem(key) or text_problem(value)
            if problem:
                raise ApiError(400, f"Invalid field '{key[:60]}': {problem}")
    if not body or not _looks_like_json(body):
        return
    try:
        data = json.loads(body)
    except RecursionError:
        raise ApiError(400, f"Invalid JSON body: nested deeper than {MAX_JSON_DEPTH} "
                            "levels") from None
    except (ValueError, UnicodeDecodeError):
        return  # the view says what it expected
    check_json(data)


def register(app: Flask) -> None:
    app.before_request(check_request)
