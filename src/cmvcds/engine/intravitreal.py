"""Intravitreal injections beside systemic induction for immediately sight-threatening CMV
retinitis (rule H3; US HIV OI guideline, CMV chapter: intravitreal ganciclovir 2 mg or foscarnet
2.4 mg, 1–4 doses over 7–10 days, plus oral valganciclovir).

The doses are the guideline's rows in ``transplant/hiv.yaml`` (``intravitreal``); each becomes an
``induction`` regimen by the intravitreal route, ganciclovir *or* foscarnet (one of the two), so
that the eye's treatment is in the answer's regimens, not only in a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from cmvcds.domain.results import Regimen
from cmvcds.domain.vocabulary import Indication
from cmvcds.knowledge.schemas.transplant import IntravitrealDose

__all__ = ["intravitreal_regimens", "intravitreal_summary"]


def _mg(value: Decimal) -> str:
    return f"{value.normalize():f}"


def intravitreal_summary(rows: Sequence[IntravitrealDose]) -> str:
    """``ganciclovir 2 mg or foscarnet 2.4 mg (in 0.1 mL), 1–4 injections over 7–10 days``."""
    doses = " or ".join(f"{r.drug} {_mg(r.dose_mg)} mg in {_mg(r.volume_ml)} mL" for r in rows)
    first = rows[0]
    return (
        f"intravitreal {doses} per injection, {first.injections_low}–{first.injections_high} "
        f"injections over {first.over_days_low}–{first.over_days_high} days"
    )


def intravitreal_regimens(rows: Sequence[IntravitrealDose], start: date) -> tuple[Regimen, ...]:
    """One intravitreal induction regimen per row, starting with the systemic induction."""
    others = {r.drug for r in rows}
    out = []
    for row in rows:
        alternative = " or ".join(sorted(others - {row.drug}))
        out.append(
            Regimen(
                drug=row.drug,
                indication=Indication.INDUCTION.value,
                dose_mg=float(row.dose_mg),
                every_h=None,
                route="intravitreal",
                citations=row.citations,
                schedule=(
                    f"{_mg(row.dose_mg)} mg in {_mg(row.volume_ml)} mL per intravitreal injection, "
                    f"{row.injections_low}–{row.injections_high} injections over "
                    f"{row.over_days_low}–{row.over_days_high} days"
                    + (f" (or {alternative}: one of the two)" if alternative else "")
                ),
                start=start,
                stop_rule=(
                    f"{row.injections_low}–{row.injections_high} injections over "
                    f"{row.over_days_low}–{row.over_days_high} days from {start}, beside the "
                    "systemic induction; the ophthalmologist sets the number (H3)"
                ),
            )
        )
    return tuple(out)
