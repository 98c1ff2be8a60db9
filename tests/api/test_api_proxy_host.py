"""docs/reverse-proxy.md: the proxy must pass the Host header with its port, because the app
builds absolute links from it."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "reverse-proxy.md"


def test_the_app_keeps_the_port_of_the_host_header_in_its_links(client) -> None:
    page = client.get("/", headers={"Host": "nas.example.lan:8443"}).get_data(as_text=True)
    assert "http://nas.example.lan:8443/" in page  # the curl line for a manual import


def test_the_nginx_examples_pass_the_host_with_its_port() -> None:
    """nginx's $host drops the port, so links would lose it behind a proxy on :8443."""
    values = re.findall(r"proxy_set_header\s+Host\s+(\S+);", DOC.read_text())
    assert values and set(values) == {"$http_host"}, values
