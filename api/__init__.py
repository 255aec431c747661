"""seatflow's HTTP edge: decode requests into engine commands, encode replies.

No pydantic on the hot path: bodies are read raw and decoded by reused msgspec
decoders; replies are msgspec-encoded views.
"""

from api.app import create_app

__all__ = ["create_app"]
