"""The physical reference for a read: a bare Starlette route answering a fixed list of 50 agents.

No middleware, no authentication, no database: the list is read once at start from the JSON file named
by ``BARE_LIST_FILE`` (auth_throughput.py writes Provenant's own answer to ``GET /api/agents`` there) and
encoded again on every request, as any JSON route must. Served by uvicorn with the options and workers
``provenant serve`` uses, so the difference to Provenant is the application alone.
"""

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

AGENTS = json.loads(Path(os.environ["BARE_LIST_FILE"]).read_bytes())


async def agents(_: Request) -> JSONResponse:
    return JSONResponse(AGENTS)


app = Starlette(routes=[Route("/agents", agents)])
