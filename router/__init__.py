"""Assignment policy: who gets this order, the queues, and re-routing on logout.

Pure: the index and queues are data the engine owns and mutates while applying
events; the functions here only look at them (dropping stale index entries, a
cache housekeeping step, is the one write they make).
"""
