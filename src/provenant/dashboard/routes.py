"""GET of any path outside ``/api``: a file of ``static/``, else ``index.html`` (the app routes deep links itself).

The route never matches ``/api`` paths, so an unknown API path falls through to the router's 404 and is
answered by the one error handler as JSON, whatever its method.

The dashboard keeps its JWT in ``localStorage`` (as the product's document says); what earns that is a
Content-Security-Policy that runs only the app's own scripts (no inline script, no inline handlers, no
``eval``), loads nothing from elsewhere and forbids framing, and the app inserting API values as text only.
"""

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from provenant.headers import CONTENT_SECURITY_POLICY, is_api

STATIC_DIR = Path(__file__).parent / "static"


SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Files change with each release and are small: revalidate every time (the ETag makes that a 304).
    "Cache-Control": "no-cache",
}

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def _static_file(path: str) -> Path | None:
    """The file under ``static/`` that ``path`` names, or None; nothing outside ``static/`` is reachable."""
    relative = path.lstrip("/")
    if not relative:
        return None
    candidate = (STATIC_DIR / relative).resolve()
    if not candidate.is_relative_to(STATIC_DIR.resolve()) or not candidate.is_file():
        return None
    return candidate


async def _serve(request: Request) -> Response:
    path = request.url.path
    file = _static_file(path)
    if file is None:
        if "." in path.rsplit("/", 1)[-1]:
            # A missing asset (say /pages/x.js) is a 404, not the app's HTML under a script's name.
            raise HTTPException(404)
        file = STATIC_DIR / "index.html"
    media_type = _MEDIA_TYPES.get(file.suffix, "application/octet-stream")
    return FileResponse(file, media_type=media_type, headers=SECURITY_HEADERS)


class DashboardRoute(Route):
    """Matches GET and HEAD of every path except ``/api`` and what lies under it."""

    def __init__(self) -> None:
        super().__init__("/{path:path}", _serve, methods=["GET", "HEAD"], include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)
