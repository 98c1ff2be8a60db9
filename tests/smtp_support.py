"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests, with plain, STARTTLS or TLS."""

from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller

from sim_process import free_port


@dataclass
class Inbox:
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK queued as test-4711"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost; tests trust it through SSL_CERT_FILE."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def start_smtp(mode: str = "none", cert_dir: Path | None = None) -> tuple[Controller, Inbox, int]:
    inbox = Inbox()
    port = free_port()
    kwargs: dict = {}
    if mode != "none":
        cert, key = make_certificate(cert_dir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        if mode == "starttls":
            kwargs = {"tls_context": context, "require_starttls": True}
        else:
            kwargs = {"ssl_context": context}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, inbox, port
