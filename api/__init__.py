"""The edges, on top of the engine: HTTP (FastAPI, the board) and the `seatflow` command.

Layer rule: api imports engine, router and presence, never bench (tests/test_layers.py);
commands that live above it (simulate, staffing) plug into the command line through
entry points (api.cli).

    app.py, routes/, fastpath.py   the HTTP app: decode requests into commands, encode views
    auth.py, body.py, intake.py    keys and roles, request bodies, order intake
    board.py, boardfeed.py, stream.py, static/   the live board and its event stream
    cli/                           the command line: serve, keys, replay, payroll

No pydantic on the hot path: bodies are read raw and decoded by reused msgspec
decoders; replies are msgspec-encoded views.
"""
