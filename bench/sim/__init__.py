"""The shift-change burst simulator: the real engine on a manual clock, a seeded day.

scenario: the roster, the agents' behaviour and the order stream of one day;
floors/strategies: who gets an order (seatflow's engine, or re-implementations
of what Asterisk, FreeSWITCH and Chatwoot do); run: the discrete-event loop;
metrics: the summary; erlang: the M/M/c limit and staffing; plots; cli.
"""
