"""Headers every ``/api`` response carries (``request_layer`` adds them), and which browser origins may read
them (CORS).

- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
  ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`` on every API response: an answer is
  data, never a page, so a browser that is led to render one (a JSON body holding markup, opened directly or
  framed) runs nothing, loads nothing and frames nothing. The docs' own page sets its own policy (``api_docs``).
- Each is set once: an answer that already carries one (the 500 handler sets them, since it may answer from
  outside that layer; the docs set their CSP) keeps its own rather than getting it twice.
- ``Cache-Control: no-store`` on every API response that does not set its own: nearly all of them carry a key, a
  token or personal data, and a rule with exceptions is one a new route gets wrong. Only the docs' static files
  set their own (``no-cache``: revalidated, never stale). ``/api/health`` gets ``no-store`` too; a probe loses
  nothing by it.
- Headers a request decided while it was handled (an API key's ``RateLimit-*``), put in the request's state
  under ``ANSWER_HEADERS``, on whatever answer it gets, errors included.
- The dashboard's paths are left alone: ``dashboard/routes.py`` sets their headers, CSP included.

CORS: the API authenticates by the ``Authorization`` header, never by a cookie, so no credentials are ever allowed
cross-origin (``Access-Control-Allow-Credentials`` is never sent); ``PROVENANT_CORS_ORIGINS`` lists the origins
whose pages may send that header and read the answers, and ``*`` means any origin, still without credentials.
"""

from typing import Any

# The pages this server serves (the dashboard, /api/docs) run only their own files: no inline script or
# handler, nothing from elsewhere, never inside a frame.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
NO_STORE = "no-store"
API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": API_CONTENT_SECURITY_POLICY,
    "Cache-Control": NO_STORE,  # unless the response sets its own
}

# The key in ``scope["state"]`` of a request's own headers (a dict), added to its answer.
ANSWER_HEADERS = "answer_headers"


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def cors_options(origins: list[str]) -> dict[str, Any]:
    """Starlette's ``CORSMiddleware`` options for ``origins``: bearer tokens only, never credentials."""
    return {
        "allow_origins": origins,
        "allow_credentials": False,
        "allow_methods": ["GET", "POST", "PATCH", "DELETE"],
        "allow_headers": ["Authorization", "Content-Type"],
        "expose_headers": [
            "Link",
            "Retry-After",
            "WWW-Authenticate",
            "X-Request-Id",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ],
        "max_age": 600,
    }
