"""Shared by the monitoring questions: blood-count codes, blood specimens, number formatting, and
which courses the pregnancy pathway owns."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from cmvcds.domain.case import Case
from cmvcds.domain.vocabulary import (
    AlertCode,
    Context,
    Indication,
)
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel

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
_PROTOCOL_INDICATIONS = (Indication.PREGNANCY_PREVENTION.value, Indication.FETAL_TREATMENT.value)


def pregnancy_protocol_course(case: Case, knowledge: Knowledge, drug: str) -> bool:
    """Whether the AIFA 648/96 pregnancy pathway owns a course of ``drug``: the case carries a
    pregnancy in any context (``Case.carries_pregnancy``, issue 14 item 5: a pregnant woman seen
    by an internist gets the pregnancy assessment too) and the drug's label has a protocol
    indication (valacyclovir: pregnancy prevention, fetal treatment). That pathway decides the
    course's indication and dose (A3) and plans its Table 2 monitoring; any other drug a pregnant
    woman takes is monitored like anyone else's."""
    if case.context is not Context.PREGNANCY and not case.carries_pregnancy:
        return False
    return drug in knowledge.derived(_protocol_drugs)


def _protocol_drugs(knowledge: Knowledge) -> frozenset[str]:
    """The drugs whose label has a pregnancy protocol indication, read once per pack (only the
    drug labels: a cached pack unpickles a table when it is read, and a cold ``cmvcds assess``
    must not read every table for this)."""
    return frozenset(
        name.removeprefix("drug_")
        for name in knowledge.names_of(DrugLabel)
        if name.startswith("drug_")
        and any(
            indication in _PROTOCOL_INDICATIONS
            for row in knowledge.table(name, DrugLabel).regimens
            for indication in row.indications
        )
    )


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
