"""Trimming the stream behind a snapshot, into journal segments first (engine.segments).

With `serve --redis URL --segments DIR`, the owner's snapshot child, once its snapshot
at seq S is stored, moves the stream's records before S to a segment file in DIR and
only then trims them from the stream, so Redis holds the records since the last
snapshot rather than the center's whole history. In order, each step durable before
the next:

1. the records first..S-1 are read from the stream and written to DIR as a segment
   (fsynced, renamed, read back against its digest);
2. the archive rows those records wrote move from the hash `{center}:archive` to the
   order archive in DIR (engine.redis_backend.order_archive: read under the lease,
   stored fsynced, then dropped from the hash by a fenced script);
3. one fenced script (TRIM) checks the caller still holds the lease and the stream
   still starts at `first`, appends the segment to the list `{center}:segments`, and
   trims the stream to start at S (record S stays: the snapshot names it).

A kill at any moment loses nothing: before step 3 the records are still in the
stream (a segment file not in the list is an orphan the next trim writes again under
another name, and may be deleted; rows already moved are no longer in the hash, so the
next trim skips them); after it they are in a segment the list names. Rows move before
the trim so that a kill between the two never strands rows no record names any more.
During a failover only the lease holder can trim: a demoted owner's child may still
write a segment file (the same records, so the same content), but its TRIM is fenced.
DIR should be storage every node that may own the center can write (a shared mount),
so the list's segments are all in one place; `seatflow replay --redis URL --segments
DIR` replays them, then the stream, for an audit of the whole history.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import redis

from engine import segments
from engine.redis_backend import order_archive
from engine.redis_backend.keys import Keys
from engine.redis_backend.stream import entry_seq

log = logging.getLogger("seatflow.redis")

READ = 10_000

TRIM = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local head = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if #head == 0 or tonumber(string.match(head[1][1], '^0%-(%d+)$')) ~= tonumber(ARGV[2]) then
  return -2
end
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. ARGV[3])
return 1
"""

TRIMMED, FENCED, MOVED = 1, -1, -2


def first_seq(client: redis.Redis, keys: Keys) -> int:
    head: Any = client.xrange(keys.journal, count=1)
    return entry_seq(head[0][0]) if head else 0


def move_before(
    client: redis.Redis, keys: Keys, seq: int, lease_value: str, directory: Path
) -> int:
    """Move the stream's records before `seq` to a segment, then trim them (sync client)."""
    first = first_seq(client, keys)
    if first == 0 or first >= seq:
        return TRIMMED  # nothing before the snapshot left in the stream
    records: list[tuple[int, bytes]] = []
    after = first - 1
    while after < seq - 1:
        raw: Any = client.xrange(keys.journal, min=f"0-{after + 1}", max=f"0-{seq - 1}", count=READ)
        if not raw:
            break
        records += [(entry_seq(entry_id), fields[b"r"]) for entry_id, fields in raw]
        after = records[-1][0]
    if not records or records[-1][0] != seq - 1:
        raise segments.SegmentError(f"the stream lacks records {first}..{seq - 1}")
    segment = segments.write(directory, records)
    moved = order_archive.move(
        client, keys, lease_value, directory, order_archive.rows_written(records)
    )
    if moved == order_archive.FENCED:
        return FENCED
    entry = f"{segment.name} {segment.first} {segment.last} {segment.sha256}"
    script = client.register_script(TRIM)
    result = int(
        script(
            keys=[keys.lease, keys.journal, keys.segments], args=[lease_value, first, seq, entry]
        )
    )
    if result == TRIMMED:
        log.info(
            "center %s: records %d..%d moved to %s, %d archive rows to %s",
            keys.center, first, seq - 1, segment.name, moved, order_archive.FILE,
        )  # fmt: skip
    return result


def parse(item: bytes) -> segments.Segment:
    """One entry of the list `{center}:segments`."""
    name, first, last, sha = item.decode().split(" ")
    return segments.Segment(name, int(first), int(last), sha)
