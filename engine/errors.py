"""One error tree for the domain; each error carries the stable code the API returns.

    SeatflowError            (code, message, detail)
    ├── Forbidden            403  the caller may not act on this object
    ├── NotFound             404  unknown agent / order / request
    ├── Conflict             409  the command does not fit the current state
    ├── Invalid              422  a field out of range or of the wrong type
    └── Unavailable          503  the journal cannot make anything durable

Renaming a code is a breaking change for integrators: codes are part of the contract.
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


class Unavailable(SeatflowError):
    status = 503
    code = "unavailable"
