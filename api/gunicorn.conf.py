"""gunicorn settings for the API: `gunicorn -c api/gunicorn.conf.py "api:create_app()"`.

Listen address from HOST/PORT (shared.config, so `.env` counts too); sync workers,
since every request is a short read; access log on stdout for `docker logs`.
"""

import os

from shared.config import settings_or_exit

_settings = settings_or_exit("api")

bind = f"{_settings.host}:{_settings.port}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 60  # exports stream for a while; a stuck worker is still recycled
graceful_timeout = 10
accesslog = "-"
errorlog = "-"
loglevel = _settings.log_level.lower()
# The client behind a reverse proxy is in X-Forwarded-For; %(h)s is then the proxy.
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms'
