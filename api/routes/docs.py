"""The API's own documentation: Swagger UI over /openapi.json, with nothing from a CDN.

FastAPI's built-in /docs loads Swagger UI from a CDN and starts it with an inline
script, so on an intranet it is a blank page and under a strict CSP it cannot run;
/redoc has no offline build at all. seatflow serves its own small page instead, its
initializer as a file, and Swagger UI's files from the pinned swagger-ui-bundle-v2.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.assets import serve_own, serve_swagger_ui

router = APIRouter(tags=["operations"])

SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


@router.get("/docs", include_in_schema=False)  # as FastAPI's own: not part of the contract
async def docs_page() -> Response:
    """Every route and body, from /openapi.json (Swagger UI; public, like /openapi.json)."""
    return serve_own("docs.html")


@router.get("/docs/docs.js", include_in_schema=False)
async def docs_script() -> Response:
    return serve_own("docs.js")


def _swagger_route(name: str) -> None:
    async def asset() -> Response:
        return serve_swagger_ui(name)

    router.add_api_route(f"/docs/{name}", asset, methods=["GET"], include_in_schema=False)


for _name in SWAGGER_FILES:
    _swagger_route(_name)
