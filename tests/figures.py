"""How outputs write figures, worked out independently of the product's code for the tests to compare against."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def tenths(score: float) -> str:
    """A score or margin to one decimal as every output writes it: its published two decimals, half up in decimal
    (69.05 → '69.1', where `.1f` gives 69.0)."""
    return str(Decimal(str(round(float(score), 2))).quantize(Decimal("0.1"), ROUND_HALF_UP))
