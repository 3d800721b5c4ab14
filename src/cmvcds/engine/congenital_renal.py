"""An infant's renal function against the congenital trial's renal entry criterion (probe11 S2).

Ganciclovir is cleared by the kidney, and the 16 mg/kg valganciclovir regimen (Kimberlin 2015)
has no renal adjustment: it was given only to infants with adequate renal function. A 3-week-old
with a creatinine of 1.6–2.5 mg/dL used to get the full dose, called "inside the trial
population", with no alert. This rule estimates the infant's creatinine clearance with the
valganciclovir label's Schwartz (its k table: 0.45 for infants < 1 year with a birth weight
appropriate for gestational age, 0.33 with a low one; ``data/drugs/formulas.yaml``) and compares
it with ``congenital/criteria.yaml`` ``renal_entry`` (unverified: flagged where it is cited).

- No creatinine: nothing to judge (the monitoring calendar asks for it monthly).
- A creatinine without a length: the length is asked for (the estimate needs it).
- Birth weight for gestational age unknown: both constants are tried; the answer stands when both
  agree, else that datum is asked for.

Pure: the dose calculator (``dosing/protocol.py``) and the congenital pathway read the same rule,
so ``cmvcds dose`` and ``cmvcds assess`` cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from cmvcds.domain.results import Missing, PathwayResult
from cmvcds.engine.dosing.patient import DosePatient
from cmvcds.engine.renal import Clearance, schwartz_label, schwartz_label_k
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.congenital import CongenitalCriteria
from cmvcds.knowledge.schemas.drugs import RenalFormulas

__all__ = ["InfantRenal", "infant_renal"]

_WHY_HEIGHT = (
    "a creatinine is given: the infant's creatinine clearance (label Schwartz: k × length / "
    "creatinine) needs the length, to compare it with the trial's renal entry criterion"
)
_WHY_SGA = (
    "the label's Schwartz constant under 1 year depends on birth weight for gestational age "
    "(0.33 low, 0.45 appropriate), and the two estimates fall on either side of the trial's "
    "renal entry criterion"
)


@dataclass(frozen=True)
class InfantRenal:
    """The verdict: ``impaired`` (below the criterion), the estimate(s) in words, what is missing,
    the citations of the rule and of the formula."""

    impaired: bool
    text: str
    missing: tuple[Missing, ...]
    citations: tuple[str, ...]


def infant_renal(
    patient: DosePatient, knowledge: Knowledge, collected: PathwayResult
) -> InfantRenal | None:
    """The infant's renal function against ``renal_entry``; None when there is nothing to judge
    (no creatinine, no age, or a pack without the row). Unverified rows are flagged in
    ``collected``."""
    criteria = knowledge.table("congenital_criteria", CongenitalCriteria)
    entry = criteria.renal_entry
    if entry is None or patient.creatinine_mg_dl is None or patient.age_years is None:
        return None
    if patient.height_cm is None:
        return InfantRenal(False, "", (Missing("height", _WHY_HEIGHT),), ())
    cited = collected.cite(entry, "renal entry criterion of the congenital trial")
    floor = entry.min_crcl_ml_min_1_73m2
    formulas = knowledge.table("renal_formulas", RenalFormulas)
    years = int(patient.age_years)
    kinds = (
        (patient.birth_weight_for_gestational_age,)
        if patient.birth_weight_for_gestational_age is not None
        else ("appropriate", "low")
    )
    estimates: list[Clearance] = []
    for kind in kinds:
        k = schwartz_label_k(
            formulas, age_years=years, sex=patient.sex, birth_weight_for_gestational_age=kind
        )
        if k is None:
            continue
        cited = (
            *cited,
            *(c for c in collected.cite(k, f"label Schwartz k {k.k}") if c not in cited),
        )
        estimates.append(
            schwartz_label(
                formulas,
                k=k,
                height_cm=patient.height_cm,
                creatinine_mg_dl=patient.creatinine_mg_dl,
            )
        )
    if not estimates:
        return None
    below = [e.value < Fraction(floor) for e in estimates]
    said = " or ".join(f"{_shown(e.value)} {e.unit} (k {e.inputs['k']})" for e in estimates)
    text = (
        f"estimated creatinine clearance {said} (label Schwartz: k × length {patient.height_cm} cm / "
        f"creatinine {patient.creatinine_mg_dl} mg/dL)"
    )
    if all(below):
        return InfantRenal(
            True, f"{text}, below the trial's entry criterion ≥ {floor}: {entry.action}", (), cited
        )
    if not any(below):
        return InfantRenal(
            False, f"{text}, not below the trial's entry criterion ≥ {floor}", (), cited
        )
    return InfantRenal(
        False, text, (Missing("patient.birth_weight_for_gestational_age", _WHY_SGA),), cited
    )


def _shown(value: Fraction) -> str:
    """A clearance to one decimal, truncated (never rounded up across the criterion)."""
    tenths = Decimal(int(value * 10)) / 10
    return format(tenths, "f")
