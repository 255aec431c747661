"""A fixed tour of the whole HTTP surface: every command type, every read, the common errors.

It runs through the real app behind the intake fast path (as `seatflow serve` serves
it), on a real Engine with a SQLite journal and a manual clock, so one run gives two
records of what seatflow does:
- the journal it wrote (`tests/fixtures/tour/journal.sqlite3`): replayed by
  tests/engine/test_journal_fixture.py, so records written by older code keep replaying;
- every answer, byte for byte (`tests/fixtures/tour/answers.json`): compared by
  tests/api/test_api_tour.py, so a restructuring that changes an answer is caught.

The fixtures were made by the code before the layering change (2026-12-01). Answers are
re-recorded on purpose, when one is meant to change (say which in the commit):

    .venv/bin/python tests/api/tour.py --answers

The journal and its fingerprint are the format fixture: they stay as that older code
wrote them (`--journal` re-makes them, for a deliberate change of the journal format).
Steps for what came later are added at the end of STEPS, so the fixture's records stay
the first ones the tour journals.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from api.app import create_app
from api.fastpath import with_fast_path
from engine.clock import ManualClock
from engine.core import Engine
from engine.sqlite_journal import SqliteJournal
from presence.timeutil import parse_time

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tour"
JOURNAL = FIXTURES / "journal.sqlite3"
ANSWERS = FIXTURES / "answers.json"
FINGERPRINT = FIXTURES / "fingerprint.json"

ADMIN_KEY = "tour-admin-key-0123456789"
START = "2026-11-23T07:00:00Z"
_RANDOM_KEY = re.compile(r'"key":"sf_[A-Za-z0-9_-]+"')
# A key's public id is a prefix of its random key's hash: shown as a placeholder.
_RANDOM_KEY_ID = re.compile(r'(?<="id":")[0-9a-f]{12}(?=")|(?<=API key )[0-9a-f]{12}\b')
# Lines of /metrics taken from the wall clock (intake latency, when a metric was created)
# differ run to run; the rest is state.
_WALL_METRICS = ("seatflow_order_intake_seconds", "_created")

# (method, path, body, key): key None is the admin key; a role name uses that role's key.
Step = tuple[str, str, Any, str | None]

PRE, AFTER = "pre-sale", "after-sale"


def _agent(name: str, team: str, skills: list[str], capacity: int) -> dict[str, Any]:
    return {"name": name, "team": team, "skills": skills, "capacity": capacity}


def _order(order_id: str, skill: str | None, priority: int = 0, payload: Any = None) -> Any:
    body: dict[str, Any] = {"id": order_id, "skill": skill, "priority": priority}
    if payload is not None:
        body["payload"] = payload
    return body


def _clock(to: str) -> Step:
    return ("POST", "/v1/admin/clock", {"set": to}, None)


def _shift(agent_id: str, start: str, end: str) -> dict[str, str]:
    return {"agent_id": agent_id, "start": start, "end": end}


def _reads(tag: str) -> list[Step]:
    """The reads a floor, an integrator and payroll make, taken at one moment."""
    return [
        ("GET", "/v1/board", None, "supervisor"),
        ("GET", "/v1/agents", None, None),
        ("GET", "/v1/agents/a1", None, None),
        ("GET", "/v1/agents/a2", None, "agent"),
        ("GET", "/v1/orders/o-1", None, "platform"),
        ("GET", "/v1/logout-requests", None, "supervisor"),
        ("GET", "/v1/logout-requests?status=pending", None, "supervisor"),
        ("GET", "/v1/audit", None, "supervisor"),
        ("GET", "/v1/schedule?from=2026-11-23T00:00:00Z&to=2026-11-25T00:00:00Z", None, None),
        ("GET", "/v1/utilization?from=2026-11-23T00:00:00Z&to=2026-11-24T00:00:00Z", None, None),
        ("GET", "/v1/payroll/2026-11", None, "payroll"),
        ("GET", "/v1/payroll/2026-11?format=csv", None, "payroll"),
        ("GET", "/v1/payroll/2026-11?format=xlsx", None, "payroll"),
        ("GET", "/v1/payroll/scheme", None, "payroll"),
        ("GET", "/v1/contests/2026-W48", None, "supervisor"),
        ("GET", "/v1/warnings/2026-11", None, "supervisor"),
        ("GET", "/v1/settings", None, None),
        ("GET", "/v1/admin/clock", None, None),
        ("GET", "/metrics", None, None),
        ("GET", f"/healthz?{tag}", None, None),
    ]


STEPS: list[Step] = [
    ("GET", "/healthz", None, None),
    ("GET", "/v1/agents", None, "none"),  # 401
    ("PUT", "/v1/settings", {"contest_points": [5, 3, 1], "warning_bottom_n": 2}, None),
    ("PUT", "/v1/settings", {"logout_grace_s": 86401}, None),  # 422
    ("PUT", "/v1/agents/a1", _agent("Ann", "north", [PRE], 2), None),
    ("PUT", "/v1/agents/a2", _agent("Bo", "north", [PRE, AFTER], 3), None),
    ("PUT", "/v1/agents/a3", _agent("Cy", "south", [AFTER], 1), None),
    ("PUT", "/v1/agents/a3", _agent("Cy", "south", [AFTER], 2), None),  # 200 updated
    ("PUT", "/v1/agents/a4", _agent("Di", "south", [PRE], 99), None),  # 422 capacity
    ("POST", "/v1/keys", {"role": "supervisor"}, None),
    ("POST", "/v1/keys", {"role": "platform"}, None),
    ("POST", "/v1/keys", {"role": "payroll"}, None),
    ("POST", "/v1/keys", {"role": "agent", "agent_id": "a2"}, None),
    ("POST", "/v1/keys", {"role": "agent", "agent_id": "zz"}, None),  # 404
    ("PUT", "/v1/agents/a1", _agent("Ann", "north", [PRE], 2), "platform"),  # 403
    _clock("2026-11-23T07:58:00Z"),
    _clock("2026-11-23T07:00:00Z"),  # 409 clock_backwards
    (
        "PUT",
        "/v1/schedule",
        {
            "shifts": [
                _shift("a1", "2026-11-23T08:00:00Z", "2026-11-23T16:00:00Z"),
                _shift("a2", "2026-11-23T08:00:00Z", "2026-11-23T16:00:00Z"),
                _shift("a3", "2026-11-23T08:00:00Z", "2026-11-23T12:00:00Z"),
            ]
        },
        "supervisor",
    ),
    (
        "PUT",
        "/v1/schedule",
        {"shifts": [_shift("a1", "2026-11-23T15:00:00Z", "2026-11-23T18:00:00Z")]},
        None,
    ),  # 422 overlap
    ("POST", "/v1/agents/a1/login", None, None),
    ("POST", "/v1/agents/a2/login", None, "agent"),
    ("POST", "/v1/agents/a1/login", None, None),  # already available: nothing journaled
    ("POST", "/v1/agents/a1/away", {"reason": "lunch"}, "agent"),  # 403 another agent
    _clock("2026-11-23T10:00:00Z"),
    ("POST", "/v1/orders", _order("o-1", PRE), "platform"),
    ("POST", "/v1/orders", _order("o-2", AFTER, 5, {"customer": "c-9"}), "platform"),
    ("POST", "/v1/orders", _order("o-1", PRE), "platform"),  # retry: 200
    ("POST", "/v1/orders", _order("o-1", AFTER), "platform"),  # 409
    ("POST", "/v1/orders", {"id": "o-x", "skill": PRE, "priority": 12}, "platform"),  # 422
    ("POST", "/v1/orders", b"{not json", "platform"),  # 400
    (
        "POST",
        "/v1/orders:batch",
        {
            "orders": [
                _order("o-3", PRE),
                _order("o-4", None, 2),
                {"id": "o-bad", "priority": -1},
                _order("o-5", AFTER, 1),
                _order("o-6", PRE, 3),
                _order("o-7", PRE),
                _order("o-8", None, 9),
            ]
        },
        "platform",
    ),
    ("POST", "/v1/agents/a2/away", {"reason": "coffee"}, "agent"),
    ("POST", "/v1/agents/a2/away", {"reason": "coffee"}, "agent"),  # same: nothing journaled
    ("POST", "/v1/orders", _order("o-9", AFTER), "platform"),
    ("POST", "/v1/agents/a3/login", None, None),
    ("POST", "/v1/agents/a2/available", None, "agent"),
    ("POST", "/v1/orders/o-1/complete", None, "platform"),
    ("POST", "/v1/orders/o-1/complete", None, "platform"),  # 409 completed
    ("POST", "/v1/orders/nope/complete", None, "platform"),  # 404
    ("POST", "/v1/orders/o-2/complete", None, "agent"),  # a2's own order
    ("POST", "/v1/orders/o-1/qa", {"passed": True}, None),
    ("POST", "/v1/orders/o-1/qa", {"passed": False}, None),  # replaces the first
    ("POST", "/v1/orders/o-3/qa", {"passed": True}, None),  # 409 not completed
    _clock("2026-11-23T10:30:00Z"),
    ("POST", "/v1/agents/a1/logout", None, None),  # 202 pending
    ("POST", "/v1/agents/a1/logout", None, None),  # 202 the same request, repeated
    ("POST", "/v1/logout-requests/lr-1/deny", None, None),
    ("POST", "/v1/logout-requests/lr-1/deny", None, None),  # 409 not pending
    ("POST", "/v1/agents/a1/logout", None, None),  # 202 lr-2
    ("POST", "/v1/logout-requests/lr-2/approve", None, None),  # offline, orders re-routed
    ("POST", "/v1/logout-requests/lr-9/approve", None, None),  # 404
    ("POST", "/v1/agents/a3/force-logout", None, None),
    ("POST", "/v1/agents/a3/force-logout", None, None),  # already offline
    (
        "PUT",
        "/v1/payroll/scheme",
        {
            "effective_from": "2026-11",
            "currency": "CNY",
            "thresholds": [2, 4],
            "rates_cents": [100, 150, 200],
        },
        None,
    ),
    (
        "PUT",
        "/v1/payroll/scheme",
        {"effective_from": "2026-11", "currency": "cny", "thresholds": [], "rates_cents": [1]},
        None,
    ),  # 422 currency
    ("POST", "/v1/agents/a1/login", None, None),
    ("POST", "/v1/orders/o-3/complete", None, "platform"),
    ("POST", "/v1/orders/o-4/complete", None, "platform"),
    ("POST", "/v1/orders/o-5/complete", None, "platform"),
    ("POST", "/v1/orders/o-3/qa", {"passed": True}, None),
    ("POST", "/v1/orders/o-4/qa", {"passed": False}, None),
    ("POST", "/v1/agents/a2/away", {"reason": "meeting"}, None),
    (
        "POST",
        "/v1/payroll/baseline",
        {"months": ["2026-11"], "min_utilization": 0.0, "tiers": 3, "method": "normal"},
        "payroll",
    ),
    *_reads("midday"),
    ("POST", "/v1/agents/a2/available", None, None),
    _clock("2026-11-23T15:55:00Z"),
    ("POST", "/v1/agents/a2/logout", None, "agent"),  # free near the end: orders go back
    ("PUT", "/v1/settings", {"stop_new_before_end_s": 600, "timezone": "Europe/Berlin"}, None),
    ("POST", "/v1/orders", _order("o-10", PRE, 4), "platform"),
    ("GET", "/v1/orders/o-10", None, None),
    ("POST", "/v1/agents/a1/logout", None, None),
    _clock("2026-11-23T17:00:00Z"),
    *_reads("evening"),
    ("GET", "/v1/nowhere", None, None),  # 404 route
    ("DELETE", "/v1/agents/a1", None, None),  # 405
    ("GET", "/openapi.json", None, None),
    # -- added since the journal fixture was written (2026-12-01): the fixture's records
    # are the journal's first ones, these add their own after them.
    ("GET", "/v1/keys", None, None),
    ("DELETE", "/v1/keys/{payroll}", None, None),  # the payroll key's id
    ("DELETE", "/v1/keys/{payroll}", None, None),  # 200 again, nothing journaled
    ("GET", "/v1/payroll/2026-11", None, "payroll"),  # 401 key_revoked
    ("DELETE", "/v1/keys/000000000000", None, None),  # 404
    ("GET", "/v1/keys", None, "supervisor"),  # 403
    # -- the assignment lifecycle (issue 14): first responses, timeouts, wrap-up, sticky.
    ("PUT", "/v1/settings", {"response_timeout_s": 5}, None),  # 422: 0 or 10..3600
    (
        "PUT",
        "/v1/settings",
        {"response_timeout_s": 60, "wrap_up_s": 30, "sticky_window_s": 3600},
        None,
    ),
    ("PUT", "/v1/agents/a1", _agent("Ann", "north", [PRE], 5), None),
    ("PUT", "/v1/agents/a2", _agent("Bo", "north", [PRE, AFTER], 6), None),
    ("POST", "/v1/agents/a1/login", None, None),  # the queue's orders go to a1 at once
    ("POST", "/v1/agents/a2/login", None, "agent"),
    ("POST", "/v1/orders", {"id": "o-20", "skill": PRE, "customer_id": "c-1"}, "platform"),
    ("POST", "/v1/orders/o-20/responded", None, "platform"),
    ("POST", "/v1/orders/o-20/responded", None, "platform"),  # again: 200, nothing journaled
    ("POST", "/v1/orders/o-20/responded", None, "supervisor"),  # 403
    ("POST", "/v1/orders/nope/responded", None, "platform"),  # 404
    ("POST", "/v1/orders/o-20/complete", None, "platform"),  # its slot wraps up for 30 s
    ("POST", "/v1/orders", {"id": "o-21", "skill": PRE, "customer_id": "c-1"}, "platform"),
    ("POST", "/v1/orders", {"id": "o-22", "skill": PRE, "preferred_agent_id": "a2"}, "platform"),
    ("POST", "/v1/orders", {"id": "o-23", "skill": None, "preferred_agent_id": "zz"}, "platform"),
    ("POST", "/v1/orders/o-22/responded", None, "agent"),  # a2's own order
    ("POST", "/v1/orders", {"id": "o-24", "skill": AFTER, "customer_id": ""}, "platform"),  # 422
    ("GET", "/v1/agents/a2", None, "agent"),
    _clock("2026-11-23T17:01:00Z"),  # a minute unanswered: taken back, wrap-up over
    ("GET", "/v1/agents?state=not_responding", None, None),
    ("GET", "/v1/orders/o-21", None, "platform"),
    ("POST", "/v1/orders/o-21/responded", None, "platform"),  # 200 or 409, as routed again
    ("POST", "/v1/agents/a1/available", None, None),
    *_reads("lifecycle"),
    ("POST", "/v1/payroll/2026-11/close", None, None),  # 409 month_not_over
    _clock("2026-12-01T01:00:00Z"),  # November has ended in Europe/Berlin (23:00Z)
    ("POST", "/v1/payroll/2026-11/close", None, None),
    ("POST", "/v1/payroll/2026-11/close", None, None),  # 200 again, the first close's body
    ("POST", "/v1/orders/o-3/qa", {"passed": False}, None),  # late: November is paid
    ("GET", "/v1/payroll/2026-11", None, None),  # frozen, closed_at set
    ("GET", "/v1/payroll/2026-11?format=csv", None, None),
    ("GET", "/v1/payroll/2026-12", None, None),  # the late QA as an adjustment
    (
        "PUT",
        "/v1/payroll/scheme",
        {"effective_from": "2026-11", "thresholds": [5], "rates_cents": [1, 2]},
        None,
    ),  # 409 month_closed
    ("PUT", "/v1/settings", {"timezone": "UTC"}, None),  # 409 timezone_locked
    ("POST", "/v1/payroll/2026-12/close", None, "supervisor"),  # 403
    # -- retention (issue 12): a week on, November's completed orders are archived.
    ("PUT", "/v1/settings", {"order_retention_days": 0}, None),  # 422: 1..400
    ("PUT", "/v1/settings", {"order_retention_days": 3}, None),
    ("GET", "/v1/orders/o-1", None, "platform"),  # archived: true
    ("GET", "/v1/orders/o-1", None, "agent"),  # 403: not a2's
    ("POST", "/v1/orders", _order("o-1", PRE), "platform"),  # retry of an archived id: 200
    ("POST", "/v1/orders", _order("o-1", AFTER), "platform"),  # 409 order_conflict
    ("POST", "/v1/orders/o-1/complete", None, "platform"),  # 409: completed
    ("POST", "/v1/orders/o-1/qa", {"passed": True}, None),  # late QA reaches the archive
    ("GET", "/metrics", None, None),  # seatflow_orders_in_memory, seatflow_orders_archived
]


def _body(step_body: Any) -> dict[str, Any]:
    if step_body is None:
        return {}
    if isinstance(step_body, bytes):
        return {"content": step_body, "headers": {"Content-Type": "application/json"}}
    return {"json": step_body}


def _xlsx_cells(data: bytes) -> list[list[list[Any]]]:
    """The workbook's cell values, sheet by sheet (its zip carries a creation time)."""
    import io

    book = openpyxl.load_workbook(io.BytesIO(data))
    return [[list(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets]


def _answer(step: Step, r: httpx.Response) -> dict[str, Any]:
    method, path, _, key = step
    out: dict[str, Any] = {
        "request": f"{method} {path} as {key or 'admin'}",
        "status": r.status_code,
    }
    kind = r.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        out["xlsx"] = _xlsx_cells(r.content)
    else:
        text = r.text
        if path == "/metrics":
            lines = text.splitlines()
            text = "\n".join(x for x in lines if not any(w in x for w in _WALL_METRICS))
        elif path == "/openapi.json":  # its schemas come in no fixed order
            text = json.dumps(json.loads(text), sort_keys=True)
        text = _RANDOM_KEY.sub('"key":"<key>"', text)
        if path.startswith("/v1/keys") or r.status_code == 401:
            text = _RANDOM_KEY_ID.sub("<key id>", text)
        out["body"] = text
    for header in ("allow", "www-authenticate", "content-disposition"):
        if header in r.headers:
            out[header] = r.headers[header]
    return out


class Tour:
    """What one walk of the tour gave: answers, board stream frames, the commands run."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.answers: list[dict[str, Any]] = []
        self.frames: list[bytes] = []
        self.commands: set[str] = set()

    def record(self) -> dict[str, Any]:
        return {"answers": self.answers, "board_stream": [f.decode() for f in self.frames]}


async def run_tour(journal_path: Path) -> Tour:
    """Walk the tour on a fresh SQLite journal (closed at the end)."""
    engine = Engine(SqliteJournal(journal_path), ManualClock(parse_time(START)))
    tour = Tour(engine)
    execute = engine.execute

    async def counted(command: Any, **kw: Any) -> Any:
        tour.commands.add(type(command).__name__)
        return await execute(command, **kw)

    engine.execute = counted  # type: ignore[method-assign]
    app = create_app(engine, admin_key=ADMIN_KEY)
    keys: dict[str, str] = {"none": ""}
    key_ids: dict[str, str] = {}
    transport = httpx.ASGITransport(app=with_fast_path(app))  # as `seatflow serve` serves it
    async with httpx.AsyncClient(transport=transport, base_url="http://seatflow") as client:
        for step in STEPS:
            method, path, body, role = step
            key = ADMIN_KEY if role is None else keys.get(role, "")
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            kw = _body(body)
            headers.update(kw.pop("headers", {}))
            r = await client.request(method, path.format(**key_ids), headers=headers, **kw)
            if path == "/v1/keys" and r.status_code == 201:
                made = r.json()
                keys[made["role"]] = made["key"]
                key_ids[made["role"]] = made["id"]
            tour.answers.append(_answer(step, r))
            if path.startswith("/healthz?"):
                stream = app.state.board_stream
                sub = stream.subscribe()
                tour.frames.append(await stream.snapshot_for(sub))
                stream.unsubscribe(sub)
    await engine.close()
    return tour


def _write(journal: bool) -> None:
    from engine.fingerprint import canonical, fingerprint

    FIXTURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.sqlite3"
        tour = asyncio.run(run_tour(path))
        if journal:
            JOURNAL.write_bytes(path.read_bytes())
            FINGERPRINT.write_text(canonical(fingerprint(tour.engine.state)) + "\n")
            print(f"wrote {JOURNAL}, {FINGERPRINT}")
    ANSWERS.write_text(json.dumps(tour.record(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {ANSWERS}")


def main(argv: list[str]) -> int:
    if argv not in (["--answers"], ["--journal"]):
        print(__doc__, file=sys.stderr)
        return 2
    _write(journal=argv == ["--journal"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
