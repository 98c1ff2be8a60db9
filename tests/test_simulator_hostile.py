"""The simulator's hostile fault modes, seen from a plain HTTP client."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sim_process import SIMULATOR, control

MIB = 1024 * 1024


@pytest.fixture
def sim(simulator):
    control(simulator.base_url, now="2026-11-26T16:07:00Z", fault=None, fault_areas=None)
    yield simulator
    control(simulator.base_url, fault=None, fault_areas=None, trickle_ms=1000, huge_mb=200)


def hostile(sim, mode: str, **settings) -> None:
    control(sim.base_url, fault=mode, fault_areas=[7], **settings)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_trickle_sends_the_real_answer_one_byte_at_a_time(sim):
    normal = requests.get(f"{sim.base_url}/areagrid/7", timeout=5).content
    hostile(sim, "trickle", trickle_ms=50)
    with requests.get(f"{sim.base_url}/areagrid/7", stream=True, timeout=5) as response:
        assert int(response.headers["Content-Length"]) == len(normal)
        got, until = b"", time.monotonic() + 0.5
        while time.monotonic() < until:
            got += response.raw.read1(100)
    assert 1 <= len(got) <= 20 and normal.startswith(got)
    assert requests.get(f"{sim.base_url}/areagrid/8", timeout=5).content != b""  # others fine


@pytest.mark.parametrize("mode", ["huge-body", "huge-chunked"])
def test_huge_bodies_are_streamed_not_built(sim, mode):
    hostile(sim, mode)  # 200 MB by default
    total = 0
    with requests.get(f"{sim.base_url}/arealoadtable/7", stream=True, timeout=10) as response:
        if mode == "huge-body":
            assert response.headers["Content-Length"] == str(200 * MIB)
        else:
            assert "Content-Length" not in response.headers
            assert response.headers["Transfer-Encoding"] == "chunked"
        for chunk in response.iter_content(MIB):
            total += len(chunk)
    assert total == 200 * MIB
    assert peak_rss_mb(sim.proc.pid) < 100  # far below the 200 MB it sent


def test_redirect_loop(sim):
    hostile(sim, "redirect-loop")
    first = requests.get(f"{sim.base_url}/areagrid/7", allow_redirects=False, timeout=5)
    assert first.status_code == 302 and first.headers["Location"] == "/api/areagrid/7?r=1"
    second = requests.get(f"{sim.base_url}/areagrid/7?r=1", allow_redirects=False, timeout=5)
    assert second.status_code == 302 and second.headers["Location"] == "/api/areagrid/7"
    with pytest.raises(requests.TooManyRedirects):
        requests.get(f"{sim.base_url}/areagrid/7", timeout=5)


def test_http429_with_configurable_retry_after(sim):
    hostile(sim, "http429", retry_after_seconds=45)
    response = requests.get(f"{sim.base_url}/arealoadtable/7", timeout=5)
    assert response.status_code == 429 and response.headers["Retry-After"] == "45"


def test_reset_mid_body(sim):
    hostile(sim, "reset")
    with pytest.raises(requests.RequestException, match="reset"):
        requests.get(f"{sim.base_url}/areagrid/7", timeout=5)


@pytest.mark.parametrize(
    "mode, text",
    [
        ("huge-number", "9" * 400),
        ("huger-number", "9" * 5000),
        ("deep-nesting", "[" * 100_000 + "1" + "]" * 100_000),
        ("nan", "NaN"),
        ("infinity", "Infinity"),
        ("out-of-range", "1e300"),
    ],
    ids=["huge-number", "huger-number", "deep-nesting", "nan", "infinity", "out-of-range"],
)
@pytest.mark.parametrize("endpoint", ["areagrid", "arealoadtable"])
def test_value_modes_put_one_impossible_value_where_a_kw_belongs(sim, mode, text, endpoint):
    normal = requests.get(f"{sim.base_url}/{endpoint}/7", timeout=5).json()
    hostile(sim, mode)
    body = requests.get(f"{sim.base_url}/{endpoint}/7", timeout=5).text
    marker = '"__kw__"'
    expected = body.replace(text, marker, 1)
    assert text in body and marker not in json.dumps(normal)
    restored = json.loads(expected)
    if endpoint == "arealoadtable":
        assert restored["areaLoadData"][0]["kw"] == "__kw__"
        restored["areaLoadData"][0]["kw"] = normal["areaLoadData"][0]["kw"]
    else:
        data = restored["chartLineData"][0]["data"]
        last = max(i for i, v in enumerate(data) if v is not None)
        assert data[last] == "__kw__"
        data[last] = normal["chartLineData"][0]["data"][last]
    assert restored == normal  # nothing else changed
    assert requests.get(f"{sim.base_url}/{endpoint}/8", timeout=5).json()["Id"] == 8


def test_hostile_settings_are_validated(sim):
    for bad in ({"trickle_ms": 0}, {"huge_mb": 0}, {"retry_after_seconds": -1}):
        response = requests.post(sim.control_url, json=bad, timeout=5)
        assert response.status_code == 400 and next(iter(bad)) in response.json()["error"]


def test_help_lists_the_hostile_modes_and_flags():
    out = subprocess.run(
        [sys.executable, str(SIMULATOR), "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    for word in ("trickle", "huge-chunked", "redirect-loop", "http429", "deep-nesting", "reset"):
        assert word in out
    for flag in ("--trickle-ms", "--huge-mb", "--retry-after"):
        assert flag in out
    bad = subprocess.run(
        [sys.executable, str(SIMULATOR), "--trickle-ms", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "trickle_ms" in bad.stderr
