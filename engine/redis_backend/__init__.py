"""Redis as the shared journal and bus of a center (issue 6; `seatflow serve --redis`).

keys.py      every key name, with the {center} hash tag
scripts.py   the Lua that makes appends fenced and leases atomic
stream.py    the journal on a Redis Stream: fenced group-commit appends, reads, tailing
lease.py     one owner per center: acquire, renew, release, fencing tokens
snapshot.py  state snapshots in Redis, written by a forked child
forward.py   commands from non-owners to the owner, replies by request id
node.py      a server process's view of a center: follower always, owner while leased
config.py    connecting, and what the server's persistence settings guarantee
"""
