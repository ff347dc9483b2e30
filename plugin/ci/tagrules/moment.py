"""moment.js date formats (what metadata-action's `{{date 'YYYYMMDD'}}` takes), rendered in Python.

Tokens follow https://momentjs.com/docs/#/displaying/format/ (English names). Text in ``[brackets]``
and characters after ``\\`` are literal; any other character that is not a token is copied as it is,
as moment does. Locale-week tokens (``w``, ``e``, ``gg``...), zone abbreviations (``z``) and eras are
refused by name instead of being printed wrong: ISO weeks (``W``, ``GGGG``, ``E``) cover the need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = (
    *("January", "February", "March", "April", "May", "June", "July", "August", "September"),
    *("October", "November", "December"),
)
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def ordinal(n: int) -> str:
    if 11 <= n % 100 <= 13:
        return f"{n}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _weekday(d: datetime) -> int:
    """moment's `d`: 0 is Sunday."""
    return (d.weekday() + 1) % 7


def _hour12(d: datetime) -> int:
    return d.hour % 12 or 12


def _offset(d: datetime, sep: str) -> str:
    delta = d.utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta else 0
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{sep}{mins:02d}"


def _fraction(width: int) -> Callable[[datetime], str]:
    """S..SSSSSSSSS: tenths, hundredths, milliseconds, then milliseconds padded with zeros (moment)."""

    def render(d: datetime) -> str:
        millis = f"{d.microsecond // 1000:03d}"
        return millis[:width] if width <= 3 else millis + "0" * (width - 3)

    return render


_TOKENS: dict[str, Callable[[datetime], str]] = {
    "YYYY": lambda d: f"{d.year:04d}",
    "YY": lambda d: f"{d.year % 100:02d}",
    "Y": lambda d: str(d.year),
    "Q": lambda d: str((d.month - 1) // 3 + 1),
    "Qo": lambda d: ordinal((d.month - 1) // 3 + 1),
    "M": lambda d: str(d.month),
    "Mo": lambda d: ordinal(d.month),
    "MM": lambda d: f"{d.month:02d}",
    "MMM": lambda d: MONTHS[d.month - 1],
    "MMMM": lambda d: MONTH_NAMES[d.month - 1],
    "D": lambda d: str(d.day),
    "Do": lambda d: ordinal(d.day),
    "DD": lambda d: f"{d.day:02d}",
    "DDD": lambda d: str(d.timetuple().tm_yday),
    "DDDo": lambda d: ordinal(d.timetuple().tm_yday),
    "DDDD": lambda d: f"{d.timetuple().tm_yday:03d}",
    "d": lambda d: str(_weekday(d)),
    "do": lambda d: ordinal(_weekday(d)),
    "dd": lambda d: DAYS[_weekday(d)][:2],
    "ddd": lambda d: DAYS[_weekday(d)][:3],
    "dddd": lambda d: DAYS[_weekday(d)],
    "E": lambda d: str(d.isoweekday()),
    "W": lambda d: str(d.isocalendar()[1]),
    "Wo": lambda d: ordinal(d.isocalendar()[1]),
    "WW": lambda d: f"{d.isocalendar()[1]:02d}",
    "GG": lambda d: f"{d.isocalendar()[0] % 100:02d}",
    "GGGG": lambda d: f"{d.isocalendar()[0]:04d}",
    "A": lambda d: "AM" if d.hour < 12 else "PM",
    "a": lambda d: "am" if d.hour < 12 else "pm",
    "H": lambda d: str(d.hour),
    "HH": lambda d: f"{d.hour:02d}",
    "h": lambda d: str(_hour12(d)),
    "hh": lambda d: f"{_hour12(d):02d}",
    "k": lambda d: str(d.hour or 24),
    "kk": lambda d: f"{d.hour or 24:02d}",
    "m": lambda d: str(d.minute),
    "mm": lambda d: f"{d.minute:02d}",
    "s": lambda d: str(d.second),
    "ss": lambda d: f"{d.second:02d}",
    "Z": lambda d: _offset(d, ":"),
    "ZZ": lambda d: _offset(d, ""),
    "X": lambda d: str(int(d.timestamp())),
    "x": lambda d: str(int(d.timestamp() * 1000)),
    **{"S" * n: _fraction(n) for n in range(1, 10)},
}
_REFUSED = {
    **dict.fromkeys(["w", "wo", "ww", "e", "gg", "gggg", "ggggg"], "locale weeks: use W, WW, GGGG or E"),
    **dict.fromkeys(["z", "zz"], "zone abbreviations: use Z or ZZ"),
    **dict.fromkeys(["N", "NN", "NNN", "NNNN", "NNNNN", "y", "yo", "yy", "yyy", "yyyy"], "eras"),
    **dict.fromkeys(["YYYYY", "YYYYYY", "GGGGG"], "expanded years"),
}
_SCAN = re.compile(
    r"\[([^\[]*)\]|\\(.)|("
    + "|".join(re.escape(t) for t in sorted([*_TOKENS, *_REFUSED], key=len, reverse=True))
    + r")|(.)",
    re.S,
)


class FormatError(ValueError):
    """A moment token this renderer does not implement (named, with what to use instead)."""


def check(fmt: str) -> None:
    """Refuse a format with tokens that would print wrong; every other text is valid."""
    for match in _SCAN.finditer(fmt):
        token = match[3]
        if token in _REFUSED:
            raise FormatError(f"date token {token!r} is not supported ({_REFUSED[token]})")


def format_date(when: datetime, fmt: str) -> str:
    """``when`` (an aware datetime, already in the wanted zone) rendered with a moment format."""
    check(fmt)
    out: list[str] = []
    for match in _SCAN.finditer(fmt):
        bracketed, escaped, token, other = match.groups()
        if token is not None:
            out.append(_TOKENS[token](when))
        else:
            out.append(next(p for p in (bracketed, escaped, other) if p is not None))
    return "".join(out)
