"""The Mod 10 check digit of a LOINC code, exactly as LOINC's Users' Guide computes it (section
12 C, "Calculating Mod 10 Check Digits", loinc.org/kb/users-guide/calculating-mod-10-check-digits,
source ``loinc-users-guide-mod10``), so that a mistyped code in the pack fails on load.

The guide's eight steps on the digits before the hyphen: number the digits from the right; take
those in odd positions (1st, 3rd, …) as a number and double it; put the digits in even positions
(2nd, 4th, …) in front of that; add up every digit; the check digit is what is missing to the next
multiple of ten. Answer (``LA…``) and Part (``LP…``) identifiers use a variant and are not term
codes: only ``<digits>-<digit>`` is checked here. The 14 deprecated terms the guide lists as
having invalid check digits fail this check too, which is wanted: a pack has no use for them.
"""

from __future__ import annotations

import re

__all__ = ["check_digit", "valid_loinc_code"]

_TERM = re.compile(r"(\d+)-(\d)")


def check_digit(body: str) -> int:
    """The check digit of ``body``, the digits before the hyphen (Users' Guide 12 C)."""
    if not body.isdigit() or not body.isascii():
        raise ValueError(f"{body!r} is not a run of digits")
    from_right = body[::-1]
    odd = from_right[0::2]  # steps 1-2: the 1st, 3rd, … digits from the right (12345: 531)
    even = from_right[1::2]  # step 4: the 2nd, 4th, … (12345: 42)
    joined = even + str(int(odd) * 2)  # steps 3 and 5 (12345: 42 + 1062)
    total = sum(int(d) for d in joined)  # step 6
    return (10 - total % 10) % 10  # steps 7-8


def valid_loinc_code(code: str) -> bool:
    """Whether ``code`` is ``<digits>-<check digit>`` with the right check digit."""
    match = _TERM.fullmatch(code)
    return match is not None and check_digit(match.group(1)) == int(match.group(2))
