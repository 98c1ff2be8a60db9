"""Email through stdlib smtplib: STARTTLS, implicit TLS or plain, per SMTP_SECURITY.

Messages are plain text plus an HTML part in which every value is escaped. Sending
returns the server's own answer to the message, so `test-email` can print it.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

from shared.config import Settings

SMTP_TIMEOUT = 20.0
# CRLF line ends for the wire; headers fold only past SMTP's own 998-byte limit.
SMTP_POLICY = SMTP.clone(max_line_length=998)


class NotifyError(RuntimeError):
    pass


@dataclass(frozen=True)
class Mail:
    subject: str
    lines: list[str]  # paragraphs of plain text; the HTML part escapes each

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def html(self) -> str:
        body = "\n".join(f"<p>{html.escape(line)}</p>" for line in self.lines if line)
        return f"<!doctype html>\n<html><body>\n{body}\n</body></html>\n"


def test_mail(settings: Settings) -> Mail:
    """The test message of `python -m collector test-email` and the Settings page."""
    where = f"{settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security})"
    return Mail(
        "test message",
        [
            "This is a test message from KAMO Load Logger.",
            f"Alerts go to {settings.notification_email} through {where}.",
        ],
    )


def build_message(settings: Settings, mail: Mail) -> EmailMessage:
    sender = settings.smtp_from or settings.smtp_user or f"kamo-load-logger@{settings.smtp_host}"
    msg = EmailMessage()
    msg["Subject"] = f"[KAMO Load Logger] {mail.subject}"
    msg["From"] = sender
    msg["To"] = settings.notification_email
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="kamo-load-logger")
    # quoted-printable: SMTP servers refuse lines over 998 bytes, and error lists get long.
    msg.set_content(mail.text(), cte="quoted-printable")
    msg.add_alternative(mail.html(), subtype="html", cte="quoted-printable")
    return msg


def _connect(settings: Settings) -> smtplib.SMTP:
    host, port = settings.smtp_host, settings.smtp_port
    if settings.smtp_security == "ssl":
        return smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    if settings.smtp_security == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp


def send_mail(settings: Settings, mail: Mail) -> str:
    """Send one message; returns the server's reply to it, e.g. `250 OK queued`."""
    if not settings.alerts_enabled:
        raise NotifyError("email is off: set SMTP_HOST and NOTIFICATION_EMAIL")
    msg = build_message(settings, mail)
    recipients = [a.strip() for a in settings.notification_email.split(",") if a.strip()]
    try:
        with _connect(settings) as smtp:
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.ehlo_or_helo_if_needed()
            _expect(smtp.mail(msg["From"]), (250,), "MAIL FROM")
            for rcpt in recipients:
                _expect(smtp.rcpt(rcpt), (250, 251), f"RCPT TO {rcpt}")
            # smtplib sends bytes as they are: bare LFs would make one long line.
            payload = msg.as_bytes(policy=SMTP_POLICY)
            return _expect(smtp.data(payload), (250,), "the message")
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyError(f"{type(exc).__name__}: {exc}") from None


def _expect(answer: tuple[int, bytes], ok: tuple[int, ...], what: str) -> str:
    code, reply = answer
    text = f"{code} {reply.decode(errors='replace')}"
    if code not in ok:
        raise NotifyError(f"{what} refused: {text}")
    return text
