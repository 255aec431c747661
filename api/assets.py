"""The files seatflow's pages ship with, served from installed packages under a strict CSP.

The board's page, script and style are in api/static; the API docs' Swagger UI comes
from the pinned `swagger-ui-bundle-v2` package. Nothing is loaded from the internet, so
both work on an intranet, and every page may run only its own files and talk only to
this server.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.responses import Response

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


STATIC = Path(__file__).resolve().parent / "static"


@cache
def _own(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@cache
def _swagger_ui(name: str) -> bytes:
    import swagger_ui_bundle  # the pinned Swagger UI distribution

    return (swagger_ui_bundle.swagger_ui_path / name).read_bytes()


def _response(name: str, data: bytes) -> Response:
    return Response(data, media_type=TYPES[Path(name).suffix], headers=PAGE_HEADERS)


def serve_own(name: str) -> Response:
    """A file of seatflow's own pages (api/static)."""
    return _response(name, _own(name))


def serve_swagger_ui(name: str) -> Response:
    """A file of Swagger UI, as the pinned package ships it."""
    return _response(name, _swagger_ui(name))
