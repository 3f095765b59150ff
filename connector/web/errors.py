"""JSON errors: ``{"message": ..., "error": true}`` with the status the seeds give.

An unexpected error answers 500 with a generic message and an ``error_id``; the log has
the same id with the traceback. Nothing of the exception (its name, its text, SQL or bound
parameters) reaches the client: a driver's message quotes the statement and the values
it was given, which may be another tenant's data or a secret.
"""

from __future__ import annotations

import logging
import secrets

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str):
    response = jsonify({"message": message, "error": True})
    response.status_code = status
    return response


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {413: "Request body too large", 404: "Not found",
                    405: "Method not allowed"}
        return error_response(exc.code or 500, messages.get(exc.code, exc.description))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        error_id = secrets.token_hex(8)
        log.exception("unhandled error %s on %s %s", error_id, request.method, request.path)
        response = jsonify({"message": "Internal error. Quote this error id to the operator: "
                                       f"{error_id}", "error": True, "error_id": error_id})
        response.status_code = 500
        return response
