"""The error tree as the engine's callers see it: presence's domain errors, plus Unavailable.

The tree and its codes are drawn in presence.errors (its root lives in the bottom
layer, so every layer raises into one tree); the engine adds the one failure only it
can have: a journal that cannot make anything durable.
"""

from __future__ import annotations

from presence.errors import Conflict, Forbidden, Invalid, NotFound, SeatflowError


class Unavailable(SeatflowError):
    status = 503
    code = "unavailable"


__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "SeatflowError", "Unavailable"]
