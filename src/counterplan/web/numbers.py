"""Numbers for people, the same on every page and in every message of the
web application: thousands grouped, rounded to a few significant digits,
never in the ``1e+11`` notation of programs; percentages with as many
digits as it takes for a share that is not zero to read as not zero."""

from __future__ import annotations

import math

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _real(value: object) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def number(value: object, digits: int = 4) -> str:
    """``value`` rounded to ``digits`` significant digits, thousands grouped
    (1,234,568; 0.004512); a number past a thousand billion, or below a
    millionth, as ``1.23 × 10¹⁵``; '—' for none."""
    x = _real(value)
    if x is None:
        return "—"
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    if -6 <= exponent < 15:
        decimals = max(0, digits - 1 - exponent)
        text = f"{round(x, decimals):,.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa = x / 10**exponent
    if round(abs(mantissa), digits - 1) >= 10:  # 9.9996 rounds up to the next power
        mantissa, exponent = mantissa / 10, exponent + 1
    head = f"{mantissa:.{digits - 1}f}".rstrip("0").rstrip(".")
    return f"{head} × 10{str(exponent).translate(SUPERSCRIPT)}"


def percent(value: object) -> str:
    """A share as a percentage: one decimal, more when the share is small but
    not zero (0.00086 %), '—' for none."""
    x = _real(value)
    if x is None:
        return "—"
    p = 100 * x
    if p == 0 or abs(p) >= 0.1:
        return f"{p:,.1f} %"
    return f"{number(p, 2)} %"


def amount(value: object, unit: str = "") -> str:
    """A number with its unit, for a sentence: '1,200 t'."""
    text = number(value)
    return f"{text} {unit}".strip() if unit and text != "—" else text
