"""``check_dose``: compare a prescribed dose with the labelled one and say what to change.

An order matches when its dose per administration and its weekly amount both lie within the
policy tolerance (``dosing_policy.check_tolerance_fraction``) of the recommendation. Otherwise:

- ``dose-renal-adjustment`` — the order is above a dose the label lowered for renal function;
- ``dose-above-target`` — above the labelled dose for another reason;
- ``dose-below-target`` — below it.

Each alert carries the suggested dose. An order above the label is a ``warning``, raised by
``dosing_policy.overdose_severity`` with the size of the error: an order of at least twice the
recommended daily amount (900 mg twice daily where CrCl 31 mL/min calls for 450 mg once daily is
4×) is ``critical``. The CDS Hooks order-sign service and the infant weight follow-up call this.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.results import Alert
from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome, Severity
from cmvcds.engine.dosing.patient import DosePatient
from cmvcds.engine.dosing.recommend import dosing_policy, recommend_dose
from cmvcds.engine.dosing.result import DoseRegimen, DoseResult, alert_dict, schedule_wording
from cmvcds.engine.renal import WeightBasis
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge

__all__ = ["DoseCheck", "PrescribedDose", "check_dose"]


@fast_init
@dataclass(frozen=True)
class PrescribedDose:
    """An order: ``dose_mg`` (or ``dose_mg_per_kg``) every ``every_h`` hours, or ``doses_per_week``."""

    drug: str
    indication: Indication | str
    dose_mg: Decimal | None = None
    dose_mg_per_kg: Decimal | None = None
    every_h: Decimal | None = None
    doses_per_week: Decimal | None = None
    route: str | None = None
    regimen: str | None = None


@fast_init
@dataclass(frozen=True)
class DoseCheck:
    """The verdict on an order: ``matches``, ``below``, ``above``, ``renal-adjustment`` or
    ``no-recommendation`` (the recommendation was not ``recommended``; see its outcome)."""

    status: str
    order: PrescribedDose
    recommendation: DoseResult
    alerts: tuple[Alert, ...]
    suggested: DoseRegimen | None
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "alerts": [alert_dict(a) for a in self.alerts],
            "suggested": self.suggested.to_dict() if self.suggested else None,
            "reasons": list(self.reasons),
            "recommendation": self.recommendation.to_dict(),
        }


def check_dose(
    order: PrescribedDose,
    patient: DosePatient,
    knowledge: Knowledge,
    *,
    region: str = "us",
    weight_basis: WeightBasis = "actual",
) -> DoseCheck:
    """Compare ``order`` with ``recommend_dose`` for the same drug, indication and patient."""
    recommendation = recommend_dose(
        patient,
        order.drug,
        order.indication,
        knowledge,
        regimen=order.regimen,
        route=order.route,
        region=region,
        weight_basis=weight_basis,
    )
    if recommendation.outcome is not Outcome.RECOMMENDED or recommendation.regimen is None:
        why = f"No labelled dose to compare with: {recommendation.outcome.wording}."
        unchecked = _unchecked_alert(order, patient, recommendation)
        return DoseCheck(
            "no-recommendation",
            order,
            recommendation,
            recommendation.alerts if unchecked is None else (unchecked, *recommendation.alerts),
            None,
            (why, *recommendation.reasons),
        )
    target = recommendation.regimen
    # exact rationals as (numerator, denominator) pairs of ints, denominators positive: the same
    # comparisons and figures as Fraction arithmetic, without its per-operation objects
    ordered_mg = _ordered_mg(order, patient)
    per_week = _per_week(order)
    ordered_week = (ordered_mg[0] * per_week[0], ordered_mg[1] * per_week[1])
    target_mg = target.dose_mg.as_integer_ratio()
    target_per_week = target.doses_per_week
    target_week = (
        target_mg[0] * target_per_week.numerator,
        target_mg[1] * target_per_week.denominator,
    )
    policy = knowledge.derived(dosing_policy)
    tolerance, scale = policy.check_tolerance_fraction.as_integer_ratio()

    def compare(value: tuple[int, int], reference: tuple[int, int]) -> int:
        """1 above reference × (1 + tolerance), -1 below reference × (1 − tolerance), else 0."""
        measured, limit = value[0] * reference[1] * scale, reference[0] * value[1]
        if measured > limit * (scale + tolerance):
            return 1
        if measured < limit * (scale - tolerance):
            return -1
        return 0

    weekly = compare(ordered_week, target_week)
    per_dose = compare(ordered_mg, target_mg)
    direction = weekly or per_dose
    # else per week: a daily mean misleads
    daily = per_week[0] >= 7 * per_week[1] and target_per_week >= 7
    ordered_total = (
        f"{_show((ordered_week[0], ordered_week[1] * 7))} mg/day"
        if daily
        else f"{_show(ordered_week)} mg/week"
    )
    target_total = (
        f"{_show((target_week[0], target_week[1] * 7))} mg/day"
        if daily
        else f"{_show(target_week)} mg/week"
    )
    ordered_text = f"{_show(ordered_mg)} mg {_order_schedule(order)} ({ordered_total})"
    target_text = (
        f"{_show(target_mg)} mg {target.schedule} ({target_total}; {target.band}; "
        f"{', '.join(target.citations)})"
    )
    if direction == 0:
        return DoseCheck(
            "matches",
            order,
            recommendation,
            (),
            target,
            (f"Ordered {ordered_text} matches {target_text}.",),
        )
    if direction > 0 and target.renally_adjusted:
        status, code = "renal-adjustment", AlertCode.DOSE_RENAL_ADJUSTMENT
        message = f"Ordered {ordered_text}; renal function requires {target_text}."
    elif direction > 0:
        status, code = "above", AlertCode.DOSE_ABOVE_TARGET
        message = f"Ordered {ordered_text} is above the labelled {target_text}."
    else:
        status, code = "below", AlertCode.DOSE_BELOW_TARGET
        message = f"Ordered {ordered_text} is below the labelled {target_text}."
    severity, citations = Severity.WARNING, recommendation.citations
    if direction > 0:
        ratio = Fraction(ordered_week[0] * target_week[1], ordered_week[1] * target_week[0])
        met = [r for r in policy.overdose_severity if ratio >= Fraction(r.ratio_at_least)]
        if met:
            rule = max(met, key=lambda r: r.ratio_at_least)
            severity = Severity(rule.severity)
            citations = tuple(dict.fromkeys((*citations, *policy.citations)))
            message += (
                f" The order is {_show((ratio.numerator, ratio.denominator))}× the labelled daily amount "
                f"({rule.severity} at ≥ {rule.ratio_at_least}×, {', '.join(policy.citations)})."
            )
    alert = Alert(code, severity, message, citations)
    return DoseCheck(
        status, order, recommendation, (alert, *recommendation.alerts), target, (message,)
    )


#: the outcomes with no labelled dose that an order is never silently left at (review11 S1)
_UNCHECKED = (Outcome.EXCLUDED, Outcome.SPECIALIST_REVIEW, Outcome.NOT_INDICATED)


def _unchecked_alert(
    order: PrescribedDose, patient: DosePatient, recommendation: DoseResult
) -> Alert | None:
    """The alert of an order the label gives no dose for (review11 S1: valganciclovir 900 mg
    every 12 h on hemodialysis, where VALCYTE §2.5/§8.6 says "not recommended … use IV
    ganciclovir", had no alert at all). ``excluded`` is critical: the label rules the drug out for
    this patient (``renal-exclusion`` when a renal band or the dialysis mode did, else
    ``dose-above-target``: there is no labelled dose to be within); ``specialist_review`` and
    ``not_indicated`` are a warning (``dose-renal-adjustment`` for a renal reason): the order
    cannot be checked. Each names the label's reason, which names its alternative, with its
    citations. None when the dosing engine already raised an alert as severe, or the outcome is
    ``insufficient_data`` (its missing items say what is needed)."""
    outcome = recommendation.outcome
    if outcome not in _UNCHECKED:
        return None
    severity = Severity.CRITICAL if outcome is Outcome.EXCLUDED else Severity.WARNING
    rank = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)
    if any(
        rank.index(a.severity) >= rank.index(severity) and a.code is not AlertCode.UNVERIFIED_FACT
        for a in recommendation.alerts
    ):
        return None
    renal = recommendation.renal is not None or patient.dialysis != "none"
    indication = recommendation.indication.value
    why = next((r for r in reversed(recommendation.reasons) if r), "")
    if outcome is Outcome.EXCLUDED:
        code = AlertCode.RENAL_EXCLUSION if renal else AlertCode.DOSE_ABOVE_TARGET
        message = (
            f"{order.drug} ({indication}): the label gives no dose for this patient; do not "
            f"continue this order. {why}"
        )
    else:
        code = AlertCode.DOSE_RENAL_ADJUSTMENT if renal else AlertCode.DOSE_ABOVE_TARGET
        message = (
            f"{order.drug} ({indication}): the label gives no dose to check this order against; "
            f"review it with a specialist. {why}"
        )
    return Alert(code, severity, message.strip(), recommendation.citations)


def _ordered_mg(order: PrescribedDose, patient: DosePatient) -> tuple[int, int]:
    """The ordered mg per administration, exact (numerator, denominator)."""
    if order.dose_mg is not None:
        return order.dose_mg.as_integer_ratio()
    if order.dose_mg_per_kg is not None:
        if patient.weight_kg is None:
            raise InputError("an order in mg/kg needs the patient's weight", field="weight")
        per_kg, kg = order.dose_mg_per_kg.as_integer_ratio(), patient.weight_kg.as_integer_ratio()
        return per_kg[0] * kg[0], per_kg[1] * kg[1]
    raise InputError("an order needs dose_mg or dose_mg_per_kg", field="dose_mg")


def _per_week(order: PrescribedDose) -> tuple[int, int]:
    """The ordered administrations per week, exact (numerator, denominator)."""
    if order.every_h is not None:
        hours, part = order.every_h.as_integer_ratio()
        if hours == 0:
            raise ZeroDivisionError("an order every 0 hours")
        return (168 * part, hours) if hours > 0 else (-168 * part, -hours)
    if order.doses_per_week is not None:
        return order.doses_per_week.as_integer_ratio()
    raise InputError("an order needs every_h or doses_per_week", field="every_h")


def _order_schedule(order: PrescribedDose) -> str:
    if order.every_h is not None:
        return schedule_wording(order.every_h)
    return f"{order.doses_per_week} times weekly"


def _show(value: tuple[int, int]) -> str:
    """An exact (numerator, denominator) amount: whole, else to one decimal (as its float)."""
    numerator, denominator = value
    if numerator % denominator == 0:
        return str(numerator // denominator)
    return f"{numerator / denominator:.1f}"
