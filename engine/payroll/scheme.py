"""Tiered piece-rate schemes, versioned by the month they take effect.

Paid at the margin: with thresholds [2000, 2500] and rates [X, Y, Z], orders 1..2000
of a month pay X each, orders 2001..2500 pay Y each, every order after 2500 pays Z.
A month uses the version with the latest `effective_from` not after it. Money is
integer cents; bounds keep every payout inside int64 (see MAX_RATE_CENTS).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.calendar import parse_month
from engine.errors import Invalid

MAX_TIERS = 20
MAX_THRESHOLD = 1_000_000_000
# 10^9 orders at 10^8 cents stays below 2^63 (int64) with room to sum 90 agents.
MAX_RATE_CENTS = 100_000_000
CURRENCY_CHARS = r"[A-Z]{3}"  # ISO 4217; public for the API's schema
_CURRENCY = re.compile(CURRENCY_CHARS)  # fullmatch: "$" would let a final newline in


@dataclass(slots=True, frozen=True)
class Scheme:
    effective_from: str  # "YYYY-MM"
    currency: str
    thresholds: tuple[int, ...]
    rates_cents: tuple[int, ...]

    def bands(self) -> list[tuple[int, int | None, int]]:
        """(first order, last order or None, rate) of each band, e.g. (2001, 2500, 120)."""
        lows = (0, *self.thresholds)
        highs: tuple[int | None, ...] = (*self.thresholds, None)
        bands = zip(lows, highs, self.rates_cents, strict=True)
        return [(lo + 1, hi, rate) for lo, hi, rate in bands]


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_scheme(
    effective_from: str, currency: str, thresholds: Sequence[int], rates_cents: Sequence[int]
) -> Scheme:
    """Validate a scheme; the 422 names the first bad field (`rates_cents[2]`)."""
    parse_month(effective_from, "effective_from")
    if not _CURRENCY.fullmatch(currency):
        raise Invalid("currency", f"currency {currency[:20]!r} is not an ISO 4217 code like 'CNY'")
    if len(thresholds) > MAX_TIERS:
        raise Invalid("thresholds", f"at most {MAX_TIERS} thresholds, got {len(thresholds)}")
    previous = 0
    for i, t in enumerate(thresholds):
        field = f"thresholds[{i}]"
        if not _int(t) or not 1 <= t <= MAX_THRESHOLD:
            raise Invalid(
                field, f"{field} {t!r} must be a whole number of orders 1..{MAX_THRESHOLD}"
            )
        if t <= previous:
            raise Invalid(
                field, f"{field} {t} must be above thresholds[{i - 1}] {previous}: thresholds rise"
            )
        previous = t
    if len(rates_cents) != len(thresholds) + 1:
        raise Invalid(
            "rates_cents",
            f"rates_cents has {len(rates_cents)} rates; {len(thresholds)} thresholds need "
            f"{len(thresholds) + 1} (one per band)",
        )
    for i, r in enumerate(rates_cents):
        field = f"rates_cents[{i}]"
        if not _int(r) or not 0 <= r <= MAX_RATE_CENTS:
            raise Invalid(
                field, f"{field} {r!r} must be a whole number of cents 0..{MAX_RATE_CENTS}"
            )
    return Scheme(effective_from, currency, tuple(thresholds), tuple(rates_cents))


def scheme_for(schemes: Mapping[str, Scheme], month: str) -> Scheme | None:
    """The version in force in `month` ("YYYY-MM" compares as text)."""
    best = None
    for effective_from in schemes:
        if effective_from <= month and (best is None or effective_from > best):
            best = effective_from
    return None if best is None else schemes[best]
