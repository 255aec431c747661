"""The floor managers' live board: the page (public, it asks for a key) and its event stream.

The page and its script and style ship inside the package (api/static), so a
floor on an intranet needs nothing from the internet. The stream is
`text/event-stream`; browsers read it with fetch() so the key travels in the
Authorization header, never in a URL.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.assets import serve_own
from api.auth import STAFF, require
from api.context import engine_of
from api.openapi import route_doc
from api.stream import BoardStream

router = APIRouter(tags=["board"])


@router.get(
    "/board",
    responses={200: {"description": "the live board page", "content": {"text/html": {}}}},
)
async def board_page() -> Response:
    """The live board for floor managers (HTML); it asks for a supervisor key once."""
    return serve_own("board.html")


@router.get("/board/board.js", include_in_schema=False)
async def board_script() -> Response:
    return serve_own("board.js")


@router.get("/board/board.css", include_in_schema=False)
async def board_style() -> Response:
    return serve_own("board.css")


def stream_of(request: Request) -> BoardStream:
    stream: BoardStream = request.app.state.board_stream
    return stream


_STREAM_DOC = route_doc({200: {}})
_STREAM_DOC["responses"][200] = {
    "description": "Server-Sent Events: `snapshot`, then `delta` events (at most ~10 a second)",
    "content": {"text/event-stream": {}},
}


@router.get("/v1/board/stream", **_STREAM_DOC)
async def board_stream(request: Request) -> Response:
    """Live board: a `snapshot` event, then coalesced `delta` events; see docs/api-notes.md."""
    who = require(request, STAFF)
    stopping = getattr(request.app.state, "stopping", None)
    center = engine_of(request)

    def ended() -> bool:
        # A server shutting down, or this board's key revoked: the stream ends (within
        # 0.5 s); a board that reconnects with the revoked key is refused 401.
        return (stopping is not None and stopping()) or who.revoked(center.state)

    messages = stream_of(request).messages(ended)
    return StreamingResponse(
        messages,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
