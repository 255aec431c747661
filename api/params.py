"""Path and query parameters as the routes declare them: plain strings, with their limits.

Routes read every parameter as text and check it with the server's own rules
(api.body, api.query, engine.calendar, the routes' enums), whose 422 messages name the
parameter. The annotations here only state those limits in the OpenAPI document:
FastAPI copies `json_schema_extra` into the parameter's schema and validates nothing
of it, so no request gets FastAPI's own 422. api.openapi then drops the `null` FastAPI
writes for an optional parameter (a query string has no null) and sends array-typed
query parameters as comma-separated lists (`?points=3,2,1`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from api.patterns import AGENT_ID, MONTH, ORDER_ID, TIME, WEEK, Schema, one_of
from engine.i18n import LANGUAGES
from engine.settings import MAX_BOTTOM_N, MAX_PLACES, MAX_POINTS
from presence.agent import STATES
from presence.requests import APPROVED, CLOSED, DENIED, PENDING

FORMATS = ("json", "csv", "xlsx")
FLAGS = ("true", "false", "1", "0")
REQUEST_STATUSES = (PENDING, APPROVED, DENIED, CLOSED)


def path(schema: Schema) -> Any:
    return Path(json_schema_extra=schema)


def query(schema: Schema, alias: str | None = None) -> Any:
    return Query(alias=alias, json_schema_extra=schema)


AgentIdPath = Annotated[str, path(AGENT_ID)]
OrderIdPath = Annotated[str, path(ORDER_ID)]
MonthPath = Annotated[str, path(MONTH)]
WeekPath = Annotated[str, path(WEEK)]

AgentIdQuery = Annotated[str | None, query(AGENT_ID)]
FromQuery = Annotated[str | None, query({**TIME, "description": "start of the window"}, "from")]
ToQuery = Annotated[str | None, query({**TIME, "description": "end of the window (excluded)"})]
StateQuery = Annotated[str | None, query(one_of(STATES))]
StatusQuery = Annotated[str | None, query(one_of(REQUEST_STATUSES))]
FormatQuery = Annotated[str, query(one_of(FORMATS))]
LangQuery = Annotated[
    str | None, query(one_of(LANGUAGES, "the exports' language; default: setting `language`"))
]
BomQuery = Annotated[
    str | None, query(one_of(FLAGS, "start a CSV with a byte-order mark; default: zh-CN only"))
]
PointsQuery = Annotated[
    str | None,
    query(
        {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": MAX_POINTS},
            "minItems": 1,
            "maxItems": MAX_PLACES,
            "description": "points of places 1, 2, 3, ...; default: setting `contest_points`",
        }
    ),
]
BottomNQuery = Annotated[
    str | None,
    query(
        {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_BOTTOM_N,
            "description": "default: setting `warning_bottom_n`",
        }
    ),
]
