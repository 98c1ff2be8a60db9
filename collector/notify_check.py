"""`python -m collector test-notify`: a test message to every configured channel.

Email (when SMTP_HOST and NOTIFICATION_EMAIL are set), each NOTIFY_URLS target, and an
MQTT publish (when MQTT_URL is set). One line per channel; exit status 1 when any failed,
or when no channel is configured at all.
"""

from __future__ import annotations

import sys

from collector.mqtt import publish_test
from collector.notify import Mail, NotifyError, send_mail
from collector.push import send_tests
from shared.config import Settings


def test_notify(settings: Settings) -> int:
    results: list[tuple[str, str | None, str]] = []  # (channel, error, what happened)
    if settings.alerts_enabled:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        mail = Mail("test message", ["This is a test message from KAMO Load Logger."])
        try:
            reply = send_mail(settings, mail)
            results.append((f"email to {settings.notification_email}", None, reply))
        except NotifyError as exc:
            results.append((f"email via {where}", str(exc), ""))
    for label, error in send_tests(settings):
        results.append((f"push {label}", error, "delivered"))
    if settings.mqtt_url:
        try:
            results.append(("mqtt", None, publish_test(settings)))
        except RuntimeError as exc:
            results.append(("mqtt", str(exc), ""))
    if not results:
        print(
            "no channel configured: set SMTP_HOST and NOTIFICATION_EMAIL, NOTIFY_URLS or MQTT_URL",
            file=sys.stderr,
        )
        return 1
    for channel, error, done in results:
        if error is None:
            print(f"ok      {channel}: {done}")
        else:
            print(f"FAILED  {channel}: {error}")
    return 1 if any(error is not None for _, error, _ in results) else 0
