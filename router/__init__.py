"""Routing, on top of presence: who gets this order, the queues, release on logout.

Layer rule: router imports only presence (tests/test_layers.py).

    policy.py  the decisions: place an order, serve an agent with room, release orders
    index.py   agents with room per skill, in routing order: O(log n) per decision
    queue.py   waiting orders per skill, in service order
    order.py   the order record, its statuses and the queue order
    events.py  routing events (assigned, queued, released)

Pure: the index and queues are data the engine owns and mutates while applying the
events the policy returns; the policy only looks at them (dropping stale index
entries, a cache housekeeping step, is the one write it makes).
"""
