"""The baseline for the HTTP burst: one no-op route on the same server stack.

A separate app, started by the load generator as its own uvicorn process with the
settings `seatflow serve` uses (uvloop, httptools, no access log). It is never part
of the product: nothing in `api/` knows it, so no flag or environment variable can
expose it in production. `POST /v1/_noop` reads the body, as order intake does,
and answers a small JSON object: the floor under any route this stack can serve.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

BODY = b'{"ok":true}'


async def noop(request: Request) -> Response:
    await request.body()
    return Response(BODY, 201, media_type="application/json")


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
app.add_api_route("/v1/_noop", noop, methods=["POST"])
