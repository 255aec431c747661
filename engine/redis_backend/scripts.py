"""The Lua run inside Redis: each script is atomic, so a check and a write cannot interleave.

APPEND is the fencing: records land only if the caller's lease value (which carries its
fencing token) is still the lease, and only right after the stream's last record, so a
paused old owner, or a batch sent twice, can never write. The records' archive rows
(engine.archive) and closed months' frozen reports (engine.payroll.closing) are set in
the archive and closed hashes by the same script: all or nothing. A
script that returns an error has written nothing: every check comes before the first XADD.
"""

from __future__ import annotations

# KEYS: lease, journal, archive, closed. ARGV: lease value, first seq, n, n records, m,
# m (order id, row) pairs, then (month, report) pairs.
APPEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED the lease is no longer ' .. ARGV[1])
end
local first = tonumber(ARGV[2])
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last = 0
if #top > 0 then last = tonumber(string.match(top[1][1], '^0%-(%d+)$')) end
if last ~= first - 1 then
  return redis.error_reply('SEQ the journal ends at ' .. last .. ', not ' .. (first - 1))
end
local n = tonumber(ARGV[3])
for i = 1, n do
  redis.call('XADD', KEYS[2], string.format('0-%d', first + i - 1), 'r', ARGV[3 + i])
end
local m = tonumber(ARGV[4 + n])
for i = 5 + n, 4 + n + 2 * m, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
for i = 5 + n + 2 * m, #ARGV, 2 do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
end
return first + n - 1
"""

# KEYS: lease, fence. ARGV: node id, ttl ms. Returns the new lease value, or nil if held.
ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
local value = token .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value
"""

# KEYS: lease. ARGV: lease value, ttl ms. 1 if still ours and extended, else 0.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lease. ARGV: lease value. Hand the center over at once on a clean shutdown.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: snapshot, lease, journal. ARGV: seq, format, chunk count, lease value, then the
# snapshot's chunks (each under Redis's 512 MB bulk limit), stored as fields data:0,
# data:1, ... of a hash that is replaced whole. The state was taken by the owner holding
# this lease value after applying record seq.
# Once that record is in the stream and the lease is still the same, every record up to
# seq is that owner's (appends are contiguous and fenced), so the snapshot is the fold
# of the stream's first seq records. Returns 1 stored, 0 older than the one there,
# -1 record seq not in the stream yet, -2 the lease changed.
PUT_SNAPSHOT = """
if redis.call('GET', KEYS[2]) ~= ARGV[4] then return -2 end
local top = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
local last = 0
if #top > 0 then last = tonumber(string.match(top[1][1], '^0%-(%d+)$')) end
if last < tonumber(ARGV[1]) then return -1 end
local have = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if tonumber(ARGV[1]) <= have then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'format', ARGV[2], 'chunks', ARGV[3])
for i = 5, #ARGV do redis.call('HSET', KEYS[1], 'data:' .. (i - 5), ARGV[i]) end
return 1
"""

# KEYS: from, to. ARGV: how many, ttl ms (0: none), handled (how many at the head of
# `to` the caller is done with). Drop those, then move up to `how many` items from the
# head of one list to the tail of the other and return them: a BLMOVE of several,
# without the wait. The ttl lets a dead process's list expire.
TAKE = """
local handled = tonumber(ARGV[3])
if handled > 0 then redis.call('LTRIM', KEYS[2], handled, -1) end
local got = redis.call('LPOP', KEYS[1], ARGV[1])
if not got then return {} end
for i = 1, #got do redis.call('RPUSH', KEYS[2], got[i]) end
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return got
"""

# KEYS: taken, then one reply list per answer. ARGV: ttl ms, then (answer, request) per
# answer. Push each answer on its reply list (which expires after the ttl) and drop its
# request from the taken list: all or none, in one round trip.
ANSWER = """
for i = 2, #KEYS do
  redis.call('RPUSH', KEYS[i], ARGV[2 * i - 2])
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
  redis.call('LREM', KEYS[1], 1, ARGV[2 * i - 1])
end
return #KEYS - 1
"""
