"""gunicorn settings for the API: `gunicorn -c api/gunicorn.conf.py "api:create_app()"`.

Listen address from HOST/PORT (shared.config, so `.env` counts too); access log on stdout
for `docker logs`.

Worker class: gevent. A sync worker is held by one client for as long as that client takes
to send its headers, so two slow clients stopped the API; a gthread worker likewise holds one
thread per connection still sending headers. gevent keeps each connection in a greenlet of a
few kilobytes and, with keepalive on, bounds the time to read a request's line and headers
(`keepalive` seconds, first request included): a slow or stalled client is dropped, never
waited for. Measured with scripts/slow_clients.py --compare (docs/reverse-proxy.md).
"""

import os

from shared.config import settings_or_exit

_settings = settings_or_exit("api")

bind = f"{_settings.host}:{_settings.port}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gevent"
# Open connections per worker, each a greenlet and one file descriptor: far under the
# usual limit of 1024 descriptors a process, so a flood of connections cannot exhaust them.
worker_connections = 500
# Seconds to wait for a request's headers, and for the next request on a kept-alive
# connection. Longer than any real client needs on a LAN; a slowloris client is cut off.
keepalive = 5
# A gevent worker keeps notifying the master while requests wait on sockets; this only
# recycles a worker whose event loop is stuck in one call.
timeout = 60
graceful_timeout = 10
# Requests are short GETs with a few headers: refuse oversized ones early (400 / 431).
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
loglevel = _settings.log_level.lower()
# The client behind a reverse proxy is in X-Forwarded-For; %(h)s is then the proxy.
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker) -> None:
    """Under gevent, let psycopg2 wait for PostgreSQL through the event loop.

    libpq blocks in C, so without a wait callback one slow query would stop every
    connection of the worker. SQLite calls are short and stay as they are.
    """
    if worker.__class__.__name__ != "GeventWorker":
        return
    try:
        import psycopg2.extensions
    except ImportError:
        return
    psycopg2.extensions.set_wait_callback(_gevent_wait)


def _gevent_wait(conn) -> None:
    """psycopg2's wait callback: poll the connection, wait on its socket in gevent.

    While connecting, libpq's connect_timeout no longer applies (the connection is driven
    from here), so the same total deadline is kept by hand: an unreachable server is a
    503, not a greenlet waiting for TCP to give up.
    """
    import time

    import psycopg2
    import psycopg2.extensions as ext
    from gevent.socket import wait_read, wait_write

    deadline = None
    if conn.status == ext.STATUS_SETUP:
        seconds = ext.parse_dsn(conn.dsn).get("connect_timeout")
        deadline = time.monotonic() + float(seconds) if seconds else None
    while True:
        state = conn.poll()
        if state == ext.POLL_OK:
            return
        if state not in (ext.POLL_READ, ext.POLL_WRITE):
            raise psycopg2.OperationalError(f"unexpected psycopg2 poll state {state}")
        left = None if deadline is None else deadline - time.monotonic()
        wait = wait_read if state == ext.POLL_READ else wait_write
        try:
            if left is not None and left <= 0:
                raise TimeoutError
            wait(conn.fileno(), timeout=left)
        except TimeoutError:
            raise psycopg2.OperationalError("timeout expired connecting to PostgreSQL") from None
