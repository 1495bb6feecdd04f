"""The pages: server-rendered HTML (Jinja2, autoescaped) for the planning
office, the delegates and the members of the workplaces.

Every page calls the same service functions as the JSON API (api.py); the
handlers only read the form, call the service and render or redirect.  Each
form carries the session's CSRF token in a hidden ``csrf`` field; the login
form, before there is a session, a random token that must match its cookie.
Charts are Vega-Lite specs (charts.py) in JSON data blocks, drawn by
static/app.js, so the pages need no inline script.
"""

from __future__ import annotations

from fastapi import APIRouter

from counterplan.web.pages import account, competition, cycle, govern, plan, unit
from counterplan.web.pages.common import error_page

#: the routes of every page, the same objects as in each part's router (no
#: prefix, tags or dependencies to add, so no copy of them: app.py)
router = APIRouter()
for part in (account, plan, unit, cycle, competition, govern):
    router.routes.extend(part.router.routes)

__all__ = ["error_page", "router"]
