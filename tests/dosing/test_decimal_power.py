"""``decimal_power.power`` gives ``Decimal.__pow__``'s answer, digit for digit and exponent for
exponent, on its first call and when remembered, and never answers one representation or one
context with another's result."""

from __future__ import annotations

import random
from decimal import ROUND_DOWN, Decimal, localcontext

import pytest

from cmvcds.engine.decimal_power import power

#: CKD-EPI 2021's exponents (female α, male α, above κ) and age base, then others.
EXPONENTS = [Decimal(t) for t in ("-0.241", "-0.302", "-1.2", "0.5", "2", "-3", "1.5", "0.9938")]


def _bases(seed: int) -> list[Decimal]:
    """Creatinine over κ as the engine makes it (2-decimal creatinine / 0.7 or 0.9 at 28
    digits), ages, and 28-digit values."""
    rng = random.Random(seed)
    with localcontext() as ctx:
        ctx.prec = 28
        ratios = [
            Decimal(rng.randint(10, 1500)) / 100 / Decimal(rng.choice(("0.7", "0.9")))
            for _ in range(600)
        ]
    return (
        ratios
        + [Decimal(rng.randint(0, 110)) for _ in range(100)]
        + [Decimal(rng.randint(1, 10**28 - 1)).scaleb(-rng.randint(0, 30)) for _ in range(200)]
    )


def _same(base: Decimal, exponent: Decimal) -> None:
    expected = base**exponent
    for _ in range(2):  # computed, then remembered
        found = power(base, exponent)
        assert found.as_tuple() == expected.as_tuple(), (base, exponent, found, expected)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_values_give_decimal_pow(seed: int) -> None:
    rng = random.Random(seed)
    with localcontext() as ctx:
        ctx.prec = 28
        for base in _bases(seed):
            _same(base, rng.choice(EXPONENTS))


def test_representations_equal_as_numbers_keep_their_own_answer() -> None:
    two = Decimal("2")
    assert power(Decimal("1.00"), two).as_tuple() == Decimal("1.0000").as_tuple()
    assert power(Decimal("1"), two).as_tuple() == Decimal("1").as_tuple()
    assert power(Decimal("1.00"), two).as_tuple() == Decimal("1.0000").as_tuple()


def test_a_context_gets_its_own_answer() -> None:
    base, exponent = Decimal("0.85"), Decimal("-0.241")
    answers = []
    for prec, rounding in ((28, None), (5, None), (3, None), (3, ROUND_DOWN)):
        with localcontext() as ctx:
            ctx.prec = prec
            if rounding is not None:
                ctx.rounding = rounding
            answers.append(str(power(base, exponent)))
            assert answers[-1] == str(base**exponent)
    assert answers == ["1.039944204306674537309292401", "1.0399", "1.04", "1.03"]


def test_a_context_that_traps_inexact_raises_as_decimal_does() -> None:
    """A power remembered under the default context is not handed to a context that traps
    Inexact: there ``Decimal.__pow__`` raises, and so does ``power`` (the traps are in the key)."""
    from decimal import Inexact

    base, exponent = Decimal("0.93"), Decimal("-0.302")
    power(base, exponent)  # remembered under the default context
    with localcontext() as context:
        context.traps[Inexact] = True
        with pytest.raises(Inexact):
            base**exponent
        with pytest.raises(Inexact):
            power(base, exponent)
