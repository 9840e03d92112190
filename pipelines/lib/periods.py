"""Parsing figure periods ("2023", "2023-06", "2023-06-30", "START/END") into dates."""

from __future__ import annotations

import calendar
import re
from datetime import date

_PART = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")


class PeriodError(ValueError):
    """A period that is not YYYY, YYYY-MM, YYYY-MM-DD or START/END of those."""


def _bounds(part: str) -> tuple[date, date]:
    match = _PART.match(part)
    if not match:
        raise PeriodError(f"'{part}' is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        if day:
            exact = date(int(year), int(month), int(day))
            return exact, exact
        if month:
            last = calendar.monthrange(int(year), int(month))[1]
            return date(int(year), int(month), 1), date(int(year), int(month), last)
        return date(int(year), 1, 1), date(int(year), 12, 31)
    except ValueError as exc:
        raise PeriodError(f"'{part}' is not a real date ({exc})") from None


def parse_period(text: str) -> tuple[date, date]:
    """First and last day a period covers; START/END spans both parts."""
    parts = text.strip().split("/")
    if len(parts) > 2 or not all(parts):
        raise PeriodError(f"'{text}' is not a period: write YYYY, YYYY-MM, YYYY-MM-DD or START/END")
    start, _ = _bounds(parts[0])
    _, end = _bounds(parts[-1])
    if start > end:
        raise PeriodError(f"'{text}' ends before it starts")
    return start, end
