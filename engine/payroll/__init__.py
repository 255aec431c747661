"""Payroll: per-day tallies kept by the fold, tiered piece-rate schemes, the payout kernel,
monthly reports and their exports, the baseline from history, weekly contests and warnings.

Everything here but `tallies` (which the state fold calls) only reads state.
"""
