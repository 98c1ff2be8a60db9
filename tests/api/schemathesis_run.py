"""schemathesis over /api/openapi.json, as a function the test suite and the long-form
reliability run share: `run_schemathesis(app, max_examples) -> {"cases", "failures"}`.

Every generated case runs; a failing case is recorded (operation, the checks that failed,
a curl line to replay it) and generation goes on, so one run counts every failure instead
of stopping at the first. Positive cases (valid by the document) must be accepted
(positive_data_acceptance); negative ones must be rejected with a 4xx.
"""

from __future__ import annotations

import math
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis_rules import DocumentedRules

from api.dbconn import get_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
MAX_ROUNDS = 6  # operations with few distinct inputs run out; other operations fill the count


def run_schemathesis(app: Flask, max_examples: int, api_key: str) -> dict[str, Any]:
    """Generate at least `max_examples` cases over every operation (positive and negative)
    and check each response; returns {"cases": int, "failures": [str, ...]}."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    rules = documented_rules(app)
    cases = 0
    failures: list[str] = []
    for round_number in range(MAX_ROUNDS):
        left = max_examples - cases
        if left <= 0:
            break
        budget = math.ceil(left / len(operations))
        for operation in operations:
            cases += _run_operation(operation, budget, round_number, api_key, rules, failures)
    return {"cases": cases, "failures": failures}


def documented_rules(app: Flask) -> DocumentedRules:
    """The rules between parameters, with this app's document, zone, poll interval and
    the largest number of substations in one area (series per substation history)."""
    document = app.test_client().get("/api/openapi.json").get_json()
    with app.test_request_context():
        most_series = (
            get_db()
            .execute_sql(
                "SELECT coalesce(max(n), 1) FROM "
                "(SELECT count(*) AS n FROM substation GROUP BY area_id) AS per_area"
            )
            .fetchone()[0]
        )
    poll_seconds = int(app.config["POLL_INTERVAL_MINUTES"]) * 60
    return DocumentedRules(document, app.config["ZONE"], poll_seconds, most_series)


def _run_operation(operation, budget, round_number, api_key, rules, failures) -> int:
    ran = 0
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE).filter(
            lambda case: not rules.breaks(case)
        ),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @seed(round_number)
    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        nonlocal ran
        ran += 1
        try:
            case.call_and_validate(headers=_key_unless_negated(case, api_key), checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # every failure recorded, the run goes on
            failures.append(_describe(case, exc))

    run()
    return ran


def _key_unless_negated(case, api_key: str) -> dict[str, str] | None:
    """The API key, except where schemathesis deliberately breaks the headers (expect 401)."""
    header = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    if header is not None and header.mode == GenerationMode.NEGATIVE:
        return None
    return {"X-API-Key": api_key}


def _describe(case, exc: BaseException) -> str:
    found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    titles = "; ".join(
        str(getattr(f, "title", None) or type(f).__name__) + ": " + str(f).splitlines()[0]
        for f in found
    )
    mode = case.meta.generation.mode.value if case.meta else "?"
    answer = next((ln.strip() for ln in str(exc).splitlines() if '"error"' in ln), "")
    return f"{case.operation.label} [{mode}] {titles} {answer} :: {case.as_curl_command()}"
