"""Benchmarks (pytest-benchmark) of seatflow's core; run with `pytest bench/ --benchmark-only`."""
