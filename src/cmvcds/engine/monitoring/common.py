"""Shared by the monitoring questions: blood-count codes, blood specimens, number formatting."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from cmvcds.domain.vocabulary import (
    AlertCode,
)

MEASURE_CODE = {
    "anc_per_ul": "anc",
    "platelets_per_ul": "platelets",
    "hemoglobin_g_dl": "hemoglobin",
}
CODE_ALERT = {
    "anc": AlertCode.NEUTROPENIA,
    "platelets": AlertCode.THROMBOCYTOPENIA,
    "hemoglobin": AlertCode.ANEMIA,
}
BLOOD = ("plasma", "whole_blood")


def plain(value: Decimal | Fraction | int) -> str:
    number = (
        Decimal(value)
        if not isinstance(value, Fraction)
        else Decimal(value.numerator) / value.denominator
    )
    text = f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}"
    return text


def log10_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"
