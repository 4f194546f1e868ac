"""``/api/docs``: Swagger UI from the installed ``swagger-ui-py`` distribution, never from a CDN.

The docs work on a machine without internet, and the page runs only what this server sends: a CSP of 'self'
(no inline script: Swagger UI's own HTML starts it inline, so the start-up lives in ``/api/docs/init.js``).
``swagger-ui-py`` (Apache-2.0) ships Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI writes; the
``swagger-ui-bundle`` distribution ships Swagger UI 4, which cannot.
"""

from importlib.util import find_spec
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from provenant.headers import CONTENT_SECURITY_POLICY

_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Provenant API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/api/openapi.json"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
"""

# validatorUrl: null, or Swagger UI sends the document to validator.swagger.io.
_INIT_JS = """window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.openapiUrl,
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""

_ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8"}


def _swagger_ui_static() -> Path:
    # Found without importing swagger_ui, whose package imports its framework adapters.
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py distribution is not installed (a dependency of provenant)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


_STATIC = _swagger_ui_static()
_PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY"}
# The assets change only with the installed distribution: revalidate (ETag), never serve a stale one.
_ASSET_HEADERS = {**_PAGE_HEADERS, "Cache-Control": "no-cache"}


async def _page(_: Request) -> Response:
    return Response(_HTML, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


async def _init(_: Request) -> Response:
    return Response(_INIT_JS, media_type="text/javascript; charset=utf-8", headers=_ASSET_HEADERS)


def _asset(name: str, media_type: str) -> Route:
    path = _STATIC / name
    stat = path.stat()  # the installed file does not change while the server runs

    async def serve(request: Request) -> Response:
        response = FileResponse(path, media_type=media_type, headers=_ASSET_HEADERS, stat_result=stat)
        if request.headers.get("if-none-match") == response.headers["etag"]:
            return Response(status_code=304, headers={"ETag": response.headers["etag"], **_ASSET_HEADERS})
        return response

    return Route(f"/api/docs/{name}", serve, methods=["GET", "HEAD"], include_in_schema=False)


DOCS_ROUTES = (
    Route("/api/docs", _page, methods=["GET", "HEAD"], include_in_schema=False),
    Route("/api/docs/init.js", _init, methods=["GET", "HEAD"], include_in_schema=False),
    *(_asset(name, media_type) for name, media_type in _ASSETS.items()),
)
