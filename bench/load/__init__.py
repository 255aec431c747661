"""The HTTP burst: a load generator against `seatflow serve` on loopback (see burst.py)."""
