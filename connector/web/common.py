"""Helpers shared by the blueprints."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import current_app, request
from pydantic import BaseModel, ValidationError

from connector.bootstrap import Container

from .errors import ApiError
from .schemas import first_error

M = TypeVar("M", bound=BaseModel)


def container() -> Container:
    return current_app.config["CONTAINER"]


def json_body(invalid_message: str = "Invalid JSON body") -> Any:
    """The request body parsed as JSON whatever its Content-Type says: API clients often
    leave the header out (curl -d sends form-urlencoded), and the body is JSON or nothing.
    """
    data = request.get_json(force=True, silent=True)
    if data is None:
        raise ApiError(400, invalid_message)
    return data


def parse(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise ApiError(400, "Invalid JSON body: expected an object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(400, first_error(exc)) from None


def int_arg(name: str, default: int, *, low: int = 1, high: int = 1000) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid query parameter '{name}': must be a whole number") \
            from None
    if not low <= value <= high:
        raise ApiError(400, f"Invalid query parameter '{name}': must be between {low} and "
                            f"{high}")
    return value
