"""Plain number text shared by reports, findings and SLA tables (no locale: the printed
customer documents format through ``deskctl.i18n``)."""

from __future__ import annotations

from fractions import Fraction


def percent(share: float | Fraction | None, digits: int = 0, *, none: str = "-") -> str:
    """A share (``0.5``) as a percentage (``50%``) with ``digits`` decimals; ``none`` when
    there is no share (nothing was judged)."""
    if share is None:
        return none
    return f"{float(share) * 100:.{digits}f}%"
