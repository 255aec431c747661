"""A canonical plain-data dump of a center's state, to prove replay == live.

Two states with equal fingerprints answer every read and every future command the
same way. Caches are left out: the agent index and versions (rebuilt from agents),
handover timers (a schedule of re-checks; `handing_over` is what they decide) and the
lifecycle deadlines (they follow from open orders, wrap-up slots and settings).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.state import State

# Caches, left out on purpose: each is rebuilt from what the fingerprint holds.
STATE_CACHES = frozenset(
    {
        "index",
        "timers",
        "timer_at",
        "key_ids",
        "deadlines",
        "done",
        "local_days",
        "fold_checked_until",
    }
)
AGENT_CACHES = frozenset({"version"})


def fingerprint(state: State, *, orders: bool = True) -> dict[str, Any]:
    """Everything the state holds, as dicts, lists and scalars that compare with ==.

    `orders=False` leaves the orders out (a checkpoint stores them as typed records).
    """
    queues = state.queues
    fp = {
        "now": state.now,
        "order_seq": state.order_seq,
        "request_seq": state.request_seq,
        "settings": {
            "logout_grace_s": state.settings.logout_grace_s,
            "stop_new_before_end_s": state.settings.stop_new_before_end_s,
            "timezone": state.settings.timezone,
            "contest_points": list(state.settings.contest_points),
            "warning_bottom_n": state.settings.warning_bottom_n,
            "language": state.settings.language,
            "response_timeout_s": state.settings.response_timeout_s,
            "wrap_up_s": state.settings.wrap_up_s,
            "sticky_window_s": state.settings.sticky_window_s,
            "order_retention_days": state.settings.order_retention_days,
        },
        "agents": {
            a.id: {
                "name": a.name,
                "team": a.team,
                "skills": list(a.skills),
                "capacity": a.capacity,
                "state": a.state,
                "reason": a.reason,
                "state_since": a.state_since,
                "open_orders": list(a.open_orders),
                "last_assigned_at": a.last_assigned_at,
                "handing_over": a.handing_over,
                "pending_request": a.pending_request,
                "wrap_ends": list(a.wrap_ends),
            }
            for a in state.agents.values()
        },
        "orders": {
            o.id: {
                "skill": o.skill,
                "priority": o.priority,
                "digest": o.digest.hex(),
                "seq": o.seq,
                "created_at": o.created_at,
                "status": o.status,
                "agent_id": o.agent_id,
                "assigned_at": o.assigned_at,
                "completed_at": o.completed_at,
                "qa_passed": o.qa_passed,
                "customer_id": o.customer_id,
                "preferred_agent_id": o.preferred_agent_id,
                "preferred_unknown": o.preferred_unknown,
                "routed_by": o.routed_by,
                "first_response_at": o.first_response_at,
                "responded_by": o.responded_by,
                "response_ms": o.response_ms,
                "reassignments": o.reassignments,
                "archived": o.archived,
            }
            for o in (state.orders.values() if orders else ())
        },
        # (skill, order ids in service order); the skill-less queue (None) first.
        "queues": [
            [skill, queues.ordered(skill)]
            for skill in sorted(queues.skills(), key=lambda s: (s is not None, s or ""))
        ],
        "requests": {
            r.id: {
                "agent_id": r.agent_id,
                "requested_at": r.requested_at,
                "status": r.status,
                "attempts": r.attempts,
                "decided_at": r.decided_at,
                "decided_by": r.decided_by,
            }
            for r in state.requests.values()
        },
        "roster": {
            agent_id: [list(s) for s in state.roster.of(agent_id)]
            for agent_id in state.roster.agents()
        },
        "keys": {
            h: {
                "role": k.role,
                "agent_id": k.agent_id,
                "created_at": k.created_at,
                "revoked_at": k.revoked_at,
                "revoked_by": k.revoked_by,
            }
            for h, k in state.keys.items()
        },
        "counters": {
            "received": state.counters.received,
            "assigned": state.counters.assigned,
            "queued": state.counters.queued,
            "completed": state.counters.completed,
            "released": state.counters.released,
            "responded": state.counters.responded,
            "timed_out": state.counters.timed_out,
            "archived": state.counters.archived,
        },
        "transitions": {a: [list(t) for t in ts] for a, ts in sorted(state.transitions.items())},
        # The filter's digest, not its 32 MB: a checkpoint carries the bits (engine.checkpoint).
        "archived_ids": state.archived_ids.digest(),
        "history_from": state.history_from,
        "daybook": [
            [d.start, d.end, list(d.agents), d.values.tobytes()] for d in state.daybook.days
        ],
        "audit": [
            [e.at, e.agent_id, e.action, e.request_id, e.by, e.order_id] for e in state.audit
        ],
        "tallies": {
            "timezone": state.tallies.timezone,
            "days": state.tallies.dump(),
            "responses": state.tallies.dump_log(),
            "responses_from": state.tallies.log_from,
        },
        "schemes": {
            m: [s.currency, list(s.thresholds), list(s.rates_cents)]
            for m, s in sorted(state.schemes.items())
        },
        "closed_months": {
            m: [c.closed_at, c.by, c.report.decode()]
            for m, c in sorted(state.closed_months.items())
        },
        "late": {f"{m} {a}": list(row) for (m, a), row in sorted(state.late.items())},
        # Oldest first: the order in which the sticky window forgets them.
        "customers": [list(c) for c in state.customers.items()],
    }
    if not orders:
        del fp["orders"]
    return fp


def canonical(fp: dict[str, Any]) -> str:
    """A fingerprint as one string, equal exactly when the fingerprints are."""
    return json.dumps(fp, sort_keys=True)


def digest(state: State) -> str:
    """The fingerprint hashed: two states answer alike exactly when their digests match."""
    return hashlib.sha256(canonical(fingerprint(state)).encode()).hexdigest()
