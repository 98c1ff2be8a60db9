"""The inspector's forecast tables on generated data (scripts/gen_bench_db.py: three days of
hourly forecast vintages up to now): the accuracy table agrees with /api/forecast."""

from __future__ import annotations

import re

from dash_support import text_of
from flask.testing import FlaskClient


def test_accuracy_table_matches_the_api(generated_client: FlaskClient) -> None:
    html = generated_client.get("/inspector?area=20&range=24h").get_data(as_text=True)
    pattern = r'<table class="compact accuracy" data-series="Forecast">.*?</table>'
    table = re.search(pattern, html, re.S)
    assert table, html[-3000:]
    rows = re.findall(r"<tr><td>(\d+) h</td><td[^>]*>([\d,]+)</td><td[^>]*>([\d,.]+)</td>"
                      r"<td[^>]*>([\d.]+) %</td></tr>", table.group(0))  # fmt: skip
    assert [int(r[0]) for r in rows] == list(range(1, 13))
    api = generated_client.get("/api/forecast/20").get_json()
    scored = next(s for s in api["series"] if s["series"] == "Forecast")["accuracy"]
    for (lead, count, mae_mw, mape), want in zip(rows, scored, strict=True):
        assert int(lead) == want["lead_hours"] and int(count.replace(",", "")) == want["count"]
        # The page rounds the unrounded error, the API its own rounding of it: a last
        # digit may differ by one.
        assert abs(float(mae_mw.replace(",", "")) - want["mae_kw"] / 1000) <= 0.0051
        assert abs(float(mape) - want["mape_percent"]) <= 0.051
    # The generator's error grows with lead, as the simulator's does.
    assert scored[0]["mape_percent"] < scored[-1]["mape_percent"]
    # The generated data ends at the current hour: no forecast ahead to draw.
    assert "No forecast for the coming hours" in text_of(html)
