"""``power``: ``base ** exponent`` in the current Decimal context, remembered for recent inputs.

CKD-EPI 2021 raises creatinine/κ to a non-integer exponent (−0.241, −0.302, −1.2): ``decimal``
computes such a power through exp and ln at 28 digits, ~70 µs a value, about a tenth of a
pregnancy case (issue 20). The C ``decimal`` module only "almost always" rounds these powers
correctly, so no faster routine may replace it without risking a different last digit. The same
creatinine values recur across a population (two decimals, a few hundred values), so the answer
of ``Decimal.__pow__`` itself is remembered instead: same operation, same answer.

The key is the exact text of both operands (``str`` is exact and round-trips: the same sign,
digits and exponent), so that ``Decimal('1.0')`` and ``Decimal('1')``, equal as numbers, never
share an entry, and every context setting that can change a rounded result or whether it raises
(precision, rounding, Emin, Emax, clamp, the traps enabled). An answer found in the memo does not raise the context's Inexact/Rounded
flags: callers compute in a ``localcontext`` whose flags nobody reads. ``functools.lru_cache``
bounds the memory and is thread-safe; a call that raises is not remembered.
"""

from __future__ import annotations

from decimal import Decimal, getcontext
from functools import lru_cache

__all__ = ["power"]

#: Entries kept: all the creatinine ratios of a population run, two sexes, fit many times over.
_SIZE = 4096


def power(base: Decimal, exponent: Decimal) -> Decimal:
    """``base ** exponent`` in the current context (see the module)."""
    # the context's settings as it pickles them, in one C call: (prec, rounding, Emin, Emax,
    # capitals, clamp, flags, traps enabled); the flags are left out (they change no result)
    prec, rounding, emin, emax, _, clamp, _, traps = getcontext().__reduce__()[1]
    return _power(str(base), str(exponent), prec, rounding, emin, emax, clamp, frozenset(traps))


@lru_cache(maxsize=_SIZE)
def _power(
    base: str,
    exponent: str,
    prec: int,
    rounding: str,
    emin: int,
    emax: int,
    clamp: int,
    traps: frozenset[type],
) -> Decimal:
    """The power of the operands rebuilt from their text (exactly the same Decimals), in the
    current context, whose settings are the last six arguments of the key."""
    return Decimal(base) ** Decimal(exponent)
