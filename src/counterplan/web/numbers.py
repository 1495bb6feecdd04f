"""Numbers for people, the same on every page and in every message of the
web application: thousands grouped, rounded to a few significant digits,
never in the ``1e+11`` notation of programs; percentages with as many
digits as it takes for a share that is not zero to read as not zero."""

from __future__ import annotations

import math
import re

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


#: A number written by a program inside a sentence (not part of a name).
NUMBER = re.compile(r"(?<![\w/.-])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w/])")
SHARE = re.compile(r"only (\d*\.\d+(?:e-?\d+)?) of it")


def humane(text: str) -> str:
    """The numbers of a sentence the library wrote (``1.07891e+06``,
    ``0.5476 of it``) rewritten for people; years and small counts stay."""
    text = SHARE.sub(lambda m: f"only {percent(float(m[1]))} of it", text)

    def one(m: re.Match[str]) -> str:
        word = m.group(0)
        return word if re.fullmatch(r"-?\d{1,4}", word) else number(float(word))
    return NUMBER.sub(one, text)


SHORT = re.compile(r"(\w[\w/.-]*)(?: \([^)]*\))? in ([^\s:]+): short of what the plan needs "
                   r"by (-?[\d.]+(?:e[+-]?\d+)?)")


def judged(proposal: dict[str, object]) -> dict[str, str]:
    """A proposal's verdict for people: the badge's words and colour, and a
    short first sentence that agrees with them (what fits, what blocks it);
    the library's reason is the detail below it."""
    before, after = _real(proposal.get("objective_before")), _real(proposal.get("objective_after"))
    change = None if before is None or after is None or before == 0 else \
        (after - before) / abs(before)
    short = SHORT.search(str(proposal.get("reason", "")))
    blocker = "" if short is None else \
        f"; first to run short: {short[1]} in {short[2]}, by {number(float(short[3]))}"
    share = percent(proposal.get("share"))
    verdict = proposal.get("verdict")
    if verdict == "accepted" and change is not None and change < -1e-9:
        return {"word": "fits, lowers the plan", "css": "lowers",
                "headline": f"It fits, but the plan gets {percent(-change)} worse with it: "
                            "the targets would be met less fully."}
    if verdict == "accepted":
        gain = f", and the plan gets {percent(change)} better" \
            if change is not None and change > 1e-9 else ""
        return {"word": "fits the plan", "css": "accepted", "headline": f"It fits the plan{gain}."}
    if verdict == "partial":
        return {"word": f"fits in part ({share})", "css": "partial",
                "headline": f"Only {share} of it fits the plan as it stands{blocker}."}
    return {"word": "does not fit", "css": "rejected",
            "headline": f"It does not fit the plan as it stands{blocker}."}


def amount(value: object, unit: str = "") -> str:
    """A number with its unit, for a sentence: '1,200 t'."""
    text = number(value)
    return f"{text} {unit}".strip() if unit and text != "—" else text
