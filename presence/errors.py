"""The domain's one error tree; each error carries the stable code the API returns.

    SeatflowError            (code, message, detail)         presence.errors
    ├── Forbidden            403  the caller may not act on this object
    ├── NotFound             404  unknown agent / order / request
    ├── Conflict             409  the command does not fit the current state
    ├── Invalid              422  a field out of range or of the wrong type
    ├── Unavailable          503  the journal cannot make anything durable   engine.errors
    └── Unauthorized 401, MalformedJson 400, BodyTooLarge 413                 api.errors

The root lives in the bottom layer so that every layer raises into the same tree:
presence and router raise these, the engine adds what only it can fail at, the HTTP
edge what only a request can get wrong. Renaming a code is a breaking change for
integrators: codes are part of the contract.
"""

from __future__ import annotations

from typing import Any


class SeatflowError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.detail = detail


class Forbidden(SeatflowError):
    status = 403
    code = "forbidden"


class NotFound(SeatflowError):
    status = 404
    code = "not_found"


class Conflict(SeatflowError):
    status = 409
    code = "conflict"


class Invalid(SeatflowError):
    status = 422
    code = "invalid_field"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code, detail={"field": field})
        self.field = field
