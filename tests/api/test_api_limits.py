"""The OpenAPI document states the limits the server really applies (issue 13, item 8).

Cases are generated from the document itself: every bound, length, item count, enum,
pattern and property count of every request body field and every parameter. For each,
a value at the bound must be taken (the server does not refuse that field) and a value
one past it must be a 422 that names the field, on a fresh center, starting from a
valid request per operation (BASE, the one hand-written part). A limit the document
gains without a case here fails `test_every_limit_in_the_document_is_checked`.

Patterns are checked on samples at and past their edges (PATTERN_SAMPLES): each sample
must match the document's regex exactly when the server takes it.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from api_support import Api, make_api

from api.app import create_app
from api.body import MAX_BODY
from api.cli.serve import MIN_ADMIN_KEY
from api.patterns import AGENT_ID, MONTH, NEW_ORDER_ID, TIME, WEEK, anchored
from api.transport import HEAD_TIMEOUT_S, MAX_HEAD_BYTES
from engine.clock import ManualClock
from engine.core import Engine
from engine.journal import MemoryJournal
from engine.payroll.scheme import CURRENCY_CHARS
from presence.roster import MAX_SHIFT_HOURS
from presence.timeutil import TIME_MAX, format_time, parse_time

T0, T1 = "2026-11-23T08:00:00Z", "2026-11-23T16:00:00Z"


@dataclass
class Request:
    """A valid request of one operation: path parameters, query, JSON body."""

    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


BASE: dict[str, Request] = {
    "PUT /v1/agents/{agent_id}": Request(
        {"agent_id": "a1"}, body={"name": "Ann", "team": "north", "capacity": 2, "skills": ["s"]}
    ),
    "GET /v1/agents/{agent_id}": Request({"agent_id": "a1"}),
    "GET /v1/agents": Request(),
    "POST /v1/agents/{agent_id}/login": Request({"agent_id": "a1"}),
    "POST /v1/agents/{agent_id}/away": Request({"agent_id": "a1"}, body={"reason": "coffee"}),
    "POST /v1/agents/{agent_id}/available": Request({"agent_id": "a1"}),
    "POST /v1/agents/{agent_id}/logout": Request({"agent_id": "a1"}),
    "POST /v1/agents/{agent_id}/force-logout": Request({"agent_id": "a1"}),
    "PUT /v1/schedule": Request(body={"shifts": [{"agent_id": "a1", "start": T0, "end": T1}]}),
    "GET /v1/schedule": Request(query={"agent_id": "a1", "from": T0, "to": T1}),
    "GET /v1/audit": Request(query={"agent_id": "a1", "from": T0, "to": T1}),
    "GET /v1/utilization": Request(query={"agent_id": "a1", "from": T0, "to": T1}),
    "GET /v1/logout-requests": Request(),
    "POST /v1/orders": Request(body={"id": "n1", "skill": "s", "priority": 1}),
    "POST /v1/orders:batch": Request(body={"orders": [{"id": "n1", "skill": "s"}]}),
    "GET /v1/orders/{order_id}": Request({"order_id": "o1"}),
    "POST /v1/orders/{order_id}/complete": Request({"order_id": "o1"}),
    "POST /v1/orders/{order_id}/qa": Request({"order_id": "o2"}, body={"passed": True}),
    "POST /v1/keys": Request(body={"role": "agent", "agent_id": "a1"}),
    "POST /v1/admin/clock": Request(body={"advance_s": 60}),
    "PUT /v1/settings": Request(body={"warning_bottom_n": 3, "contest_points": [3, 2, 1]}),
    "PUT /v1/payroll/scheme": Request(
        body={"effective_from": "2026-11", "thresholds": [10], "rates_cents": [100, 120]}
    ),
    "POST /v1/payroll/baseline": Request(body={"months": ["2026-10"]}),
    "GET /v1/payroll/{month}": Request({"month": "2026-11"}, {"format": "json"}),
    "POST /v1/payroll/{month}/close": Request({"month": "2026-10"}),
    "GET /v1/contests/{week}": Request({"week": "2026-W48"}, {"points": [3, 2, 1]}),
    "GET /v1/warnings/{month}": Request({"month": "2026-11"}, {"bottom_n": 3}),
}


def _scheme_bands(r: Request, changed: str) -> None:
    """One rate per band: keep rates_cents one longer than thresholds (and back)."""
    if changed == "thresholds":
        r.body["rates_cents"] = [100] * (len(r.body["thresholds"]) + 1)
    if changed == "rates_cents":
        r.body["thresholds"] = list(range(1, len(r.body["rates_cents"])))


def _key_binding(r: Request, changed: str) -> None:
    """Only an agent key names an agent."""
    if changed == "role" and r.body["role"] != "agent":
        r.body.pop("agent_id")


def _one_clock_move(r: Request, changed: str) -> None:
    """`set` or `advance_s`, not both."""
    r.body = {changed: r.body[changed]} if changed else r.body


def _shift_around(r: Request, changed: str) -> None:
    """A shift of one second that starts (or ends) at the time under test."""
    shift = r.body["shifts"][0]
    other, sign = {"shifts[0].start": ("end", 1), "shifts[0].end": ("start", -1)}.get(
        changed, (None, 0)
    )
    try:
        at = parse_time(shift[changed.rsplit(".", 1)[1]]) + sign * 1000
    except (ValueError, IndexError, KeyError):
        return
    if other is not None and 0 <= at < TIME_MAX:
        shift[other] = format_time(at)


def _open_window(r: Request, changed: str) -> None:
    """The time under test bounds the window alone; the other end is the default."""
    other = {"from": "to", "to": "from"}.get(changed)
    if other is not None:
        r.query.pop(other, None)


# Rules between fields, applied to a value the test expects to be taken.
COMPANIONS: dict[str, Callable[[Request, str], None]] = {
    "PUT /v1/payroll/scheme": _scheme_bands,
    "POST /v1/keys": _key_binding,
    "POST /v1/admin/clock": _one_clock_move,
    "PUT /v1/schedule": _shift_around,
    "GET /v1/schedule": _open_window,
    "GET /v1/audit": _open_window,
    "GET /v1/utilization": _open_window,
}

# The n-th item of a list grown to a length bound: items the rules let stand together.
ITEMS: dict[str, Callable[[int], Any]] = {
    "skills": lambda i: f"s{i}",
    "shifts": lambda i: {"agent_id": f"x{i}", "start": T0, "end": T1},  # unknown: 404, taken
    "orders": lambda i: {"id": f"n{i}"},
    "months": lambda i: f"{2026 - i // 12}-{12 - i % 12:02d}",
    "thresholds": lambda i: i + 1,
    "rates_cents": lambda i: 100,
    "contest_points": lambda i: 0,
    "points": lambda i: 0,
}

# Each pattern of the document: texts at its edges it takes, and texts just past them.
PATTERN_SAMPLES: dict[str, tuple[list[str], list[str]]] = {
    TIME["pattern"]: (
        [
            "1970-01-01T00:00:00Z",
            "2199-12-31T23:59:59.999Z",
            "2026-11-23 08:00:00+08:00",
            "2026-11-23t08:00:00.123456789z",
            "2026-12-31T23:59:59-23:59",
        ],
        [
            "1969-12-31T23:59:59Z",
            "2200-01-01T00:00:00Z",
            "2026-11-23T08:00:00",
            "2026-11-23T24:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-23T08:00:00Z\n",
            "２０２６-11-23T08:00:00Z",
            "2026-11-23T08:00:00+24:00",
            "2026-11-23T08:00:60Z",
        ],
    ),  # fmt: skip
    MONTH["pattern"]: (
        ["1970-01", "2199-12", "2026-11"],
        ["1969-12", "2200-01", "2026-13", "2026-00", "2026-11\n", "2026-1", "２０２６-11"],
    ),
    WEEK["pattern"]: (
        ["1970-W01", "2199-W52", "2026-W53", "2027-W53"],
        ["1969-W52", "2200-W01", "2026-W00", "2026-W54", "2026-W48\n", "2026W48"],
    ),
    AGENT_ID["pattern"]: (
        ["a", "Z9._:@-x", "7"],
        ["-a", ".a", "a b", "é", "a\n", "a/b", "a%"],
    ),
    NEW_ORDER_ID["pattern"]: ([" ", "~!/ ?#%", "chat-1"], ["é", "订单", "a\x7f", "a\n", "\t"]),
    anchored(CURRENCY_CHARS): (["EUR", "CNY"], ["eur", "EURO", "EU", "EUR\n", "€UR"]),
}

# Samples a pattern takes that the server refuses for a reason no pattern can say.
SEMANTIC = {
    ("to", "1970-01-01T00:00:00Z"): "a window ends after it starts; `from` is 1970 at the least",
    ("shifts[0].end", "1970-01-01T00:00:00Z"): "a shift ends after it starts",
    ("week", "2027-W53"): "2027 has 52 ISO weeks: only long ISO years have a week 53",
    ("timezone", "a"): "a zone is named by the zone database; no name is one letter long",
}

# Limits with no case, and why.
SKIPPED = {
    ("POST /v1/admin/clock", "advance_s", "exclusiveMaximum"): (
        "the time reached must stay before 2200: the bound that binds is 2200 - now "
        "(tests/api/test_api_errors.py), this one only says no span of times is longer"
    ),
}


# -- the document ------------------------------------------------------------------------

LIMIT_KEYWORDS = {
    "minimum", "maximum", "exclusiveMaximum", "minLength", "maxLength", "minItems",
    "maxItems", "uniqueItems", "enum", "pattern", "minProperties", "maxProperties",
}  # fmt: skip


def _document() -> dict[str, Any]:
    app = create_app(Engine(MemoryJournal(), ManualClock(0)), admin_key="x" * 16)
    return app.openapi()


DOC = _document()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = {**DOC["components"]["schemas"][name], **{k: v for k, v in schema.items()
                                                             if k != "$ref"}}  # fmt: skip
    return schema


def _branch(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema with its non-null `anyOf` branch merged in (limits may be on either)."""
    schema = _resolve(schema)
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    out = {k: v for k, v in schema.items() if k != "anyOf"}
    if branches:
        out = {**_resolve(branches[0]), **out}
        if len(branches) > 1:
            out.setdefault("type", _resolve(branches[-1]).get("type"))
    return out


@dataclass(frozen=True)
class Limit:
    op: str  # "PUT /v1/agents/{agent_id}"
    where: str  # "path", "query" or "body"
    name: str  # field path as the server names it: "capacity", "skills[0]", "orders[0].id"
    keyword: str
    schema: dict[str, Any] = field(compare=False, hash=False)

    @property
    def id(self) -> str:
        return f"{self.op} {self.where}:{self.name or '(body)'} {self.keyword}"


def _body_limits(op: str, schema: dict[str, Any], name: str) -> Iterator[Limit]:
    schema = _branch(schema)
    for keyword in LIMIT_KEYWORDS & set(schema):
        yield Limit(op, "body", name, keyword, schema)
    for prop, sub in schema.get("properties", {}).items():
        yield from _body_limits(op, sub, f"{name}.{prop}".lstrip("."))
    if "items" in schema:
        yield from _body_limits(op, schema["items"], f"{name}[0]")


def limits() -> list[Limit]:
    found = []
    for path, ops in DOC["paths"].items():
        for method, op in ops.items():
            key = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                schema = _branch(param["schema"])
                found += [Limit(key, param["in"], param["name"], kw, schema)
                          for kw in sorted(LIMIT_KEYWORDS & set(schema))]  # fmt: skip
                if "items" in schema:
                    items = _branch(schema["items"])
                    found += [Limit(key, param["in"], f"{param['name']}[0]", kw, items)
                              for kw in sorted(LIMIT_KEYWORDS & set(items))]  # fmt: skip
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                found += sorted(_body_limits(key, body["schema"], ""), key=lambda x: x.id)
    return found


# -- values at and past each limit -------------------------------------------------------


def _filler(n: int) -> str:
    return "a" * n  # a letter: every pattern with a length takes it


def _list_of(name: str, n: int, base: list[Any]) -> list[Any]:
    item = ITEMS.get(re.sub(r"\[0\].*$", "", name).rsplit(".", 1)[-1])
    return [item(i) if item else base[0] for i in range(n)]


def ecma(pattern: str) -> re.Pattern[str]:
    """A JSON Schema pattern as Python reads it: searched, and a final `$` is the end of the
    text (in Python `$` also matches before a final newline)."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def _past_number(x: float, up: bool, integer: bool) -> float:
    if integer:
        return x + 1 if up else x - 1
    return math.nextafter(x, math.inf if up else -math.inf)


def samples(limit: Limit, current: Any) -> tuple[list[Any], list[Any]]:
    """(values the server must take, values it must refuse naming the field)."""
    s, kw = limit.schema, limit.keyword
    bound = s.get(kw)
    integer = s.get("type") == "integer"
    if kw in ("minimum", "maximum"):
        return [bound], [_past_number(bound, kw == "maximum", integer)]
    if kw in ("minLength", "maxLength"):
        past = [_filler(bound - 1)] if kw == "minLength" and bound > 0 else []
        return [_filler(bound)], past or ([_filler(bound + 1)] if kw == "maxLength" else [])
    if kw in ("minItems", "maxItems"):
        past = bound + 1 if kw == "maxItems" else bound - 1
        return [_list_of(limit.name, bound, current)], [_list_of(limit.name, past, current)]
    if kw == "uniqueItems":
        distinct = _list_of(limit.name, 2, current)
        return [distinct], [[distinct[0], distinct[0]]]
    if kw == "enum":
        return list(bound), [bound[0] + "x", bound[0].upper() + " "]
    if kw == "pattern":
        assert bound in PATTERN_SAMPLES, f"{limit.id}: no samples for pattern {bound!r}"
        good, bad = PATTERN_SAMPLES[bound]
        regex = ecma(bound)
        for text in good:
            assert regex.search(text), f"the document's pattern refuses {text!r}"
        for text in bad:
            assert not regex.search(text), f"the document's pattern takes {text!r}"
        return list(good), list(bad)
    if kw == "minProperties":
        return [], [{}]
    if kw == "maxProperties":
        return [], [{"set": T1, "advance_s": 1}]
    raise AssertionError(f"{limit.id}: no samples for {kw}")


# -- requests ----------------------------------------------------------------------------


def _set(body: Any, name: str, value: Any) -> Any:
    """`body` with the field at `name` ("shifts[0].start", "" for the body) set to value."""
    if not name:
        return value
    body = copy.deepcopy(body)
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", name)
    target = body
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else target[part]
    last = parts[-1]
    if last.startswith("["):
        target[int(last[1:-1])] = value
    else:
        target[last] = value
    return body


def _query_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _request(limit: Limit, value: Any, taken: bool) -> tuple[str, str, dict[str, str], Any]:
    base = copy.deepcopy(BASE[limit.op])
    if limit.where == "body":
        base.body = _set(base.body, limit.name, value)
    elif limit.where == "path":
        base.path[limit.name] = value
    else:
        name = limit.name.removesuffix("[0]")
        base.query[name] = _set(base.query[name], "[0]", value) if name != limit.name else value
    companion = COMPANIONS.get(limit.op)
    if companion is not None and taken:
        companion(base, limit.name)
    method, template = limit.op.split(" ", 1)
    path = template
    for k, v in base.path.items():
        path = path.replace(f"{{{k}}}", quote(str(v), safe=""))
    query = {k: _query_text(v) for k, v in base.query.items()}
    return method, path, query, base.body


def _refused(r: httpx.Response) -> set[str]:
    """The fields the answer refuses ("*" for the whole request)."""
    assert r.status_code < 500, r.text
    if r.status_code in (400, 413):
        return {"*"}
    body = r.json()
    if r.status_code == 422:
        return {body["error"]["detail"]["field"]}
    results = body.get("results", []) if isinstance(body, dict) else []
    return {
        x["error"]["detail"]["field"]
        for x in results
        if "error" in x and x["error"]["code"] == "invalid_field"
    }


def _names(refused: set[str], name: str) -> bool:
    """Does a refusal name this field, its list, or something inside it?"""
    return any(
        f == "*" or f == name or name.startswith(f + "[") or f.startswith((name + "[", name + "."))
        for f in refused
    )


async def _center(api: Api) -> None:
    """a1 logged in holding o1; o2 completed (QA takes completed orders only)."""
    await api.agent("a1", skills=["s"], capacity=2)
    await api.ok("POST", "/v1/agents/a1/login")
    await api.ok("POST", "/v1/orders", json={"id": "o2"})
    await api.ok("POST", "/v1/orders/o2/complete")
    await api.ok("POST", "/v1/orders", json={"id": "o1"})


LIMITS = limits()
CHECKED = [x for x in LIMITS if (x.op, x.name, x.keyword) not in SKIPPED]


def test_every_limit_in_the_document_is_checked() -> None:
    """Every operation with a limit has a valid request here; every keyword has samples."""
    assert {x.op for x in LIMITS} <= set(BASE), {x.op for x in LIMITS} - set(BASE)
    assert {x.keyword for x in LIMITS} <= LIMIT_KEYWORDS
    assert {(x.op, x.name, x.keyword) for x in LIMITS} >= set(SKIPPED), "a skip went stale"
    # The limits the issue names are all stated (a regression to description-only fails).
    stated = {(x.op, x.name, x.keyword) for x in LIMITS}
    for want in [
        ("PUT /v1/agents/{agent_id}", "capacity", "maximum"),
        ("PUT /v1/agents/{agent_id}", "name", "maxLength"),
        ("PUT /v1/agents/{agent_id}", "agent_id", "pattern"),
        ("PUT /v1/settings", "logout_grace_s", "maximum"),
        ("PUT /v1/settings", "contest_points", "maxItems"),
        ("PUT /v1/settings", "language", "enum"),
        ("POST /v1/orders", "id", "pattern"),
        ("GET /v1/payroll/{month}", "month", "pattern"),
        ("GET /v1/payroll/{month}", "format", "enum"),
        ("GET /v1/contests/{week}", "week", "pattern"),
        ("GET /v1/warnings/{month}", "bottom_n", "maximum"),
        ("GET /v1/schedule", "from", "pattern"),
        ("POST /v1/payroll/baseline", "tiers", "maximum"),
        ("PUT /v1/payroll/scheme", "thresholds[0]", "maximum"),
    ]:
        assert want in stated, want


@pytest.mark.parametrize("limit", CHECKED, ids=[x.id for x in CHECKED])
async def test_the_server_applies_the_documented_limit(limit: Limit) -> None:
    good, bad = samples(limit, _current(limit))
    if limit.where == "path":
        # An empty path segment, or one with a slash, is another route (404), not a 422.
        bad = [] if limit.keyword == "minLength" else [v for v in bad if "/" not in str(v)]
    name = limit.name
    for taken, values in ((True, good), (False, bad)):
        for value in values:
            semantic = isinstance(value, str) and (name, value) in SEMANTIC
            async for api in make_api():
                await _center(api)
                method, path, query, body = _request(limit, value, taken and not semantic)
                r = await api.call(method, path, params=query, json=body)
                refused = _refused(r)
                named = _names(refused, name) if name else bool(refused)
            expect = not taken or semantic
            assert named == expect, (
                f"{limit.id}: {value!r} {'refused' if named else 'taken'} by the server, "
                f"the document {'takes' if taken else 'refuses'} it: {r.status_code} {r.text[:300]}"
            )


def _current(limit: Limit) -> Any:
    """The base request's value at the limit's field (a list for list limits)."""
    base = BASE[limit.op]
    if limit.where == "body":
        value: Any = base.body
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", limit.name):
            value = value[int(part[1:-1])] if part.startswith("[") else value.get(part)
        return value
    source = base.path if limit.where == "path" else base.query
    return source.get(limit.name.removesuffix("[0]"))


NOTES = Path(__file__).resolve().parents[2] / "docs" / "api-notes.md"
BOUNDS = LIMIT_KEYWORDS - {"uniqueItems", "enum", "pattern", "minProperties", "maxProperties"}


def test_the_notes_list_every_limit() -> None:
    """docs/api-notes.md, "Limits": each limited field by name, each bound and enum value,
    and the limits no schema states (transport, the admin key, shift length)."""
    text = NOTES.read_text()
    section = text[text.index("\n## Limits\n") :]
    section = section[: section.index("\n## ", 1)]
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", section))
    missing = []
    for x in LIMITS:
        name = re.sub(r"\[0\].*$", "", x.name).rsplit(".", 1)[-1]
        if name and name not in words:
            missing.append(f"{x.id}: the field {name!r}")
        bound = x.schema[x.keyword]
        if x.keyword in BOUNDS and bound not in (0, 1) and str(bound) not in section:
            missing.append(f"{x.id}: {bound}")
        if x.keyword == "enum":
            missing += [f"{x.id}: {v!r}" for v in bound if f"`{v}`" not in section]
    for bound in (MAX_BODY, MAX_HEAD_BYTES, MIN_ADMIN_KEY, MAX_SHIFT_HOURS, int(HEAD_TIMEOUT_S)):
        if str(bound) not in section:
            missing.append(f"{bound}")
    assert missing == []
