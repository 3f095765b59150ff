"""The errors of the /v1 services, by the status and code the seed's error model uses."""

from __future__ import annotations

CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
         415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED",
         500: "SERVER_ERROR"}


class V1Error(Exception):
    """``fields`` maps each invalid field (dotted path) to what is wrong with it."""

    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None,
                 *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = CODES.get(status, "SERVER_ERROR")
        self.message = message
        self.fields = fields or {}
        self.retry_after = retry_after


def not_found(what: str) -> V1Error:
    return V1Error(404, f"{what} not found")


def invalid(field: str, problem: str) -> V1Error:
    return V1Error(422, f"Invalid field '{field}': {problem}", {field: problem})
