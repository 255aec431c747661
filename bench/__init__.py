"""Benchmarks, the simulator and the load generator, on top of everything else.

Layer rule: bench may import every layer below it; nothing imports bench
(tests/test_layers.py). Its commands reach `seatflow` through entry points.

    test_*.py   the pytest-benchmark suite: `pytest bench/ --benchmark-only`
    sim/        the shift-change simulator, the anchors' strategies, Erlang C
    load/       the HTTP burst against a running server
"""
