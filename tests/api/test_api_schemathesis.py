"""Property-based tests from /api/openapi.json (tests/api/schemathesis_run.py): no 5xx, every
response matches the document, every schema-valid request is accepted and every invalid one
refused. 1,000 cases by default; SCHEMATHESIS_MAX_EXAMPLES sets another count (the
long-form reliability run uses 10,000)."""

from __future__ import annotations

import os
import re

import pytest
from api_support import API_KEY
from schemathesis_run import run_schemathesis

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "1000"))


@pytest.mark.slow
def test_openapi_conformance(app) -> None:
    result = run_schemathesis(app, MAX_EXAMPLES, API_KEY)
    print(f"schemathesis cases: {result['cases']}, failures: {len(result['failures'])}")
    assert result["cases"] >= MAX_EXAMPLES
    assert not result["failures"], "\n".join(result["failures"][:20])


def test_document_lists_every_route(app) -> None:
    documented = set(app.test_client().get("/api/openapi.json").get_json()["paths"])
    routes = {
        # Flask's <converter:name> as OpenAPI's {name}; <area> is the area_id path parameter.
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).replace("{area}", "{area_id}")
        for rule in app.url_map.iter_rules()
        # HTML pages of the dashboard and its static files are not API routes.
        if rule.endpoint != "assets.static" and not rule.endpoint.startswith("dashboard.")
    }
    assert routes == documented
