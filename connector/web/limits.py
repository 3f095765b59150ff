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


#: what a body must contain for a string to break a limit: a ``\u0000`` or a
#: ``\ud800``-``\udfff`` escape (raw control characters are not valid JSON, and invalid
#: UTF-8 does not decode); it starts with a literal, so the search runs at C speed
_ESCAPES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _too_deep(data: Any) -> bool:
    """Whether any container sits ``MAX_JSON_DEPTH`` levels down (containers only)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth >= MAX_JSON_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return False


def parse_body(body: bytes) -> Any:
    """The body parsed as JSON (``ValueError`` when it is not), checked by ``check_json``
    only when the text shows it may find something: the walk that names the field costs
    several times the parse, and most bodies (every well-formed webhook batch) have
    nothing to find."""
    long_ints: list[str] = []

    def parse_int(text: str) -> int:
        if len(text) > 18:
            long_ints.append(text)
        return int(text)

    try:
        data = json.loads(body, parse_int=parse_int)
    except RecursionError:
        raise ApiError(400, f"Invalid JSON body: nested deeper than {MAX_JSON_DEPTH} "
                            "levels") from None
    if long_ints or _ESCAPES.search(body) is not None or (
            body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _too_deep(data)):
        check_json(data)
    return data


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
        parse_body(body)
    except (ValueError, UnicodeDecodeError):
        return  # the view says what it expected


def register(app: Flask) -> None:
    app.before_request(check_request)
