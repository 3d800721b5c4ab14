"""``exact_log.log10`` gives ``Decimal.log10``'s answer, digit for digit and exponent for
exponent (a correctly rounded result is unique; the fast path must never round otherwise)."""

from __future__ import annotations

import random
from decimal import Decimal, localcontext

import pytest

from cmvcds.engine.exact_log import _rounded, log10


def _same(value: Decimal) -> None:
    expected = value.log10()
    found = log10(value)
    assert found.as_tuple() == expected.as_tuple(), (value, found, expected)


def _values(seed: int) -> list[Decimal]:
    rng = random.Random(seed)
    return (
        [Decimal(rng.randint(1, 10**9)) for _ in range(1500)]  # copies or IU/mL as reported
        + [Decimal(rng.randint(100, 10**8)) / 100 for _ in range(1500)]  # 2 decimals
        + [Decimal(repr(rng.uniform(1, 1e7))) for _ in range(1500)]  # 17 digits
        + [Decimal(rng.randint(1, 10**28 - 1)).scaleb(-rng.randint(0, 27)) for _ in range(500)]
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_random_values_as_decimal_gives_them(seed: int) -> None:
    for value in _values(seed):
        _same(value)


@pytest.mark.parametrize(
    "text",
    [
        "1", "1.0", "1.000", "10", "1E+3", "1000.00", "1E+7", "100000000000",  # exact results
        "2", "2.00", "3", "137", "12345.67", "3.2E+5", "9.99999", "10.00001", "1.00001",
        "1.0000000001", "1.000000000000000000000000001", "99999999999", "100000000001",
        "1" * 28, "1" * 30, "9" * 28, "12345678901234567890123456.78",
    ],
)  # fmt: skip
def test_edges_as_decimal_gives_them(text: str) -> None:
    _same(Decimal(text))


def test_values_below_one_and_other_contexts_go_to_decimal() -> None:
    for text in ("0.5", "0.001"):
        _same(Decimal(text))
    with localcontext() as ctx:
        ctx.prec = 12
        _same(Decimal("12345.67"))
        assert len(log10(Decimal("12345.67")).as_tuple().digits) == 12


def test_the_fast_path_answers_most_values() -> None:
    """Else the comparisons above would only test ``Decimal.log10`` against itself."""
    values = _values(3)
    answered = 0
    for value in values:
        _, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        answered += _rounded(int("".join(map(str, digits))), exponent) is not None
    assert answered >= 0.8 * len(values)
