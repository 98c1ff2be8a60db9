"""API-key protection (header X-API-Key) for the endpoints that act or export in bulk."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app
from flask_httpauth import HTTPTokenAuth

from api.errors import ApiError, error_response

auth = HTTPTokenAuth(header="X-API-Key")


@auth.verify_token
def _verify(token: str) -> bool:
    return key_matches(token)


def key_matches(token: str | None) -> bool:
    """The header's or a form's key against API_KEY; False while none is configured."""
    expected = current_app.config.get("API_KEY") or ""
    # Constant-time comparison of bytes, so timing says nothing about the key.
    return bool(token and expected) and hmac.compare_digest(token.encode(), expected.encode())


@auth.error_handler
def _denied(status: int):
    return error_response(status, "missing or wrong API key (header X-API-Key)")


def protected(view: Callable[..., Any]) -> Callable[..., Any]:
    """503 while no key is configured (there is no default key), then 401 unless it matches."""
    guarded = auth.login_required(view)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_app.config.get("API_KEY"):
            raise ApiError(503, "API key not configured: set API_KEY to use this endpoint")
        return guarded(*args, **kwargs)

    return wrapper
