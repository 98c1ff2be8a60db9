"""The server-rendered dashboard: `/`, `/inspector`, `/tables`, `/imports`, `/backups`,
`/settings` and `/requests/<id>` (one blueprint,
api.dashboard.blueprint; one module per page).

Pages read the same read-only database as the REST API, through its queries. They work
without JavaScript (pickers and ranges are links and GET forms); the one script of the
app only adds the "Trigger import" call and small conveniences. Every link is built with
url_for, so the pages keep working under a sub-path (SCRIPT_NAME). Bad query parameters
answer a 400 page naming the parameter; a database that cannot serve answers a 503 page,
except on `/`, whose job is to show that state.
"""

from api.dashboard import (  # noqa: F401  (routes on bp)
    backups,
    imports,
    inspector,
    overview,
    request_status,
    settings,
    tables,
)
from api.dashboard.blueprint import assets, bp

__all__ = ["assets", "bp"]
