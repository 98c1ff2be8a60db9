"""JSON errors: one shape, `{"error": ..., "parameter": ...}`, for every failure the API reports."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger("api")


class ApiError(Exception):
    """Raised anywhere in a request to answer with a JSON error."""

    def __init__(self, status: int, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter


class BadParameter(ApiError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(400, message, parameter)


class Unavailable(ApiError):
    """The database cannot serve this request (missing, unreadable, other schema version)."""

    def __init__(self, message: str) -> None:
        super().__init__(503, message)


def error_response(status: int, message: str, parameter: str | None = None) -> Response:
    body: dict[str, str] = {"error": message}
    if parameter is not None:
        body["parameter"] = parameter
    response = jsonify(body)
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "30"
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.parameter)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        # 404, 405, 400 from Werkzeug's own parsing: same JSON shape as ours.
        response = error_response(exc.code or 500, exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal error; see the API log")
