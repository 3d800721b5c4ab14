"""Intravitreal injections beside systemic induction for immediately sight-threatening CMV
retinitis (rule H3; US HIV OI guideline, CMV chapter: intravitreal ganciclovir 2 mg or foscarnet
2.4 mg, 1–4 doses over 7–10 days, plus oral valganciclovir).

The doses are the guideline's rows in ``transplant/hiv.yaml`` (``intravitreal``); each becomes an
``induction`` regimen by the intravitreal route, ganciclovir *or* foscarnet (one of the two), so
that the eye's treatment is in the answer's regimens, not only in a reason. The wording depends on
the pack alone: it is written once per pack (``Knowledge.derived``), only the start date per case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.domain.results import Regimen
from cmvcds.domain.vocabulary import Indication
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.transplant import HivRules, IntravitrealDose

__all__ = ["intravitreal_regimens", "intravitreal_summary"]

_INDUCTION = Indication.INDUCTION.value


def _mg(value: Decimal) -> str:
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class _Injection:
    """One intravitreal row as a regimen reads it, every word but the start date written."""

    row: IntravitrealDose
    dose_mg: float
    schedule: str
    course: str  # "1–4 injections over 7–10 days"
    alone: str  # the schedule without "(or foscarnet: one of the two)", when the other is barred


@dataclass(frozen=True)
class _Intravitreal:
    summary: str
    injections: tuple[_Injection, ...]


def _summary(rows: Sequence[IntravitrealDose]) -> str:
    doses = " or ".join(f"{r.drug} {_mg(r.dose_mg)} mg in {_mg(r.volume_ml)} mL" for r in rows)
    first = rows[0]
    return (
        f"intravitreal {doses} per injection, {first.injections_low}–{first.injections_high} "
        f"injections over {first.over_days_low}–{first.over_days_high} days"
    )


def _intravitreal(knowledge: Knowledge) -> _Intravitreal:
    rows = knowledge.table("hiv_cmv", HivRules).intravitreal
    others = {r.drug for r in rows}
    injections = []
    for row in rows:
        alternative = " or ".join(sorted(others - {row.drug}))
        course = (
            f"{row.injections_low}–{row.injections_high} injections over "
            f"{row.over_days_low}–{row.over_days_high} days"
        )
        alone = (
            f"{_mg(row.dose_mg)} mg in {_mg(row.volume_ml)} mL per intravitreal injection, {course}"
        )
        schedule = alone + (f" (or {alternative}: one of the two)" if alternative else "")
        injections.append(_Injection(row, float(row.dose_mg), schedule, course, alone))
    return _Intravitreal(_summary(rows), tuple(injections))


def intravitreal_summary(knowledge: Knowledge) -> str:
    """``ganciclovir 2 mg or foscarnet 2.4 mg (in 0.1 mL), 1–4 injections over 7–10 days``."""
    return knowledge.derived(_intravitreal).summary


def intravitreal_regimens(
    knowledge: Knowledge, start: date, barred: tuple[str, ...] = ()
) -> tuple[Regimen, ...]:
    """One intravitreal induction regimen per row, starting with the systemic induction; none for
    a ``barred`` drug (a recorded intolerance, which the caller words), and then no "or" to it."""
    injections = [
        i for i in knowledge.derived(_intravitreal).injections if i.row.drug not in barred
    ]
    return tuple(
        Regimen(
            drug=i.row.drug,
            indication=_INDUCTION,
            dose_mg=i.dose_mg,
            every_h=None,
            route="intravitreal",
            citations=i.row.citations,
            schedule=i.alone if barred else i.schedule,
            start=start,
            stop_rule=(
                f"{i.course} from {start}, beside the systemic induction; the ophthalmologist "
                "sets the number (H3)"
            ),
        )
        for i in injections
    )
