"""The language catalogues, for the pages: `GET /i18n/{lang}.json` (public, like the pages).

The strings live in engine/i18n, one catalogue per language; the board (and any page to
come) fetches its language's catalogue from here, so one file per language holds every
string seatflow shows, on a page or in an export.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.errors import error_response, json_response
from engine.i18n import LANGUAGES, catalogue

router = APIRouter(tags=["operations"])


@router.get("/i18n/{lang}.json", include_in_schema=False)
async def get_catalogue(lang: str) -> Response:
    if lang not in LANGUAGES:
        return error_response(
            404, "not_found", f"no catalogue {lang[:20]!r}; there are {', '.join(LANGUAGES)}"
        )
    return json_response(catalogue(lang), headers={"Cache-Control": "no-cache"})
