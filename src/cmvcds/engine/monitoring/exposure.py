"""Is the ganciclovir exposure on target? AUC12 reported, or computed from timed concentrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.settings import SiteSettings, use_setting
from cmvcds.domain.vocabulary import (
    AlertCode,
    Severity,
)
from cmvcds.engine.kinetics import (
    auc_trapezoid,
)
from cmvcds.engine.monitoring.common import plain
from cmvcds.engine.monitoring.courses import Course
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.monitoring import (
    TdmRules,
)

#: The dosing interval an AUC0-12 covers (hours).
_DOSE_INTERVAL_H = Decimal(12)


@dataclass(frozen=True)
class _Exposure:
    """A ganciclovir AUC0-12 (mg·h/L): reported by the laboratory, or computed from concentrations."""

    value: Decimal
    day: date
    method: str


def _exposures(case: Case, course: Course, on: date) -> list[_Exposure]:
    """Reported AUC12 values and AUC12s computed from each day's concentration profile.

    A profile is the ``ganciclovir_concentration`` results of one date with ``hours_after_dose``;
    its AUC0-12 is the linear trapezoid over the samples from 0 h to 12 h, and needs a sample at
    0 h (pre-dose) and one at 12 h — nothing is extrapolated. Samples after 12 h are left out.
    """
    found = [
        _Exposure(o.value, o.date, "reported by the laboratory")
        for o in case.results("ganciclovir_auc12")
        if course.start <= o.date <= on and o.value is not None
    ]
    profiles: dict[date, list[Observation]] = {}
    for o in case.results("ganciclovir_concentration"):
        if course.start <= o.date <= on and o.value is not None:
            profiles.setdefault(o.date, []).append(o)
    for day, samples in profiles.items():
        timed = sorted(
            (o.hours_after_dose, o.value)
            for o in samples
            if o.hours_after_dose is not None and o.value is not None
        )
        within = [(h, c) for h, c in timed if h <= _DOSE_INTERVAL_H]
        hours = {h for h, _ in within}
        if len(timed) < len(samples) or not {Decimal(0), _DOSE_INTERVAL_H} <= hours:
            continue
        try:
            auc = auc_trapezoid(within)
        except ValueError:  # two concentrations at the same hour
            continue
        shown = ", ".join(f"{plain(h)} h {plain(c)} mg/L" for h, c in within)
        found.append(
            _Exposure(
                auc.quantize(Decimal("0.1")),
                day,
                f"computed by the linear trapezoid rule from {len(within)} concentrations 0–12 h after the "
                f"dose ({shown})",
            )
        )
    return found


def _profile_gaps(case: Case, course: Course, on: date) -> list[Missing]:
    """Why a concentration profile could not give an AUC0-12 (named in ``missing``)."""
    gaps = []
    by_day: dict[date, list[Observation]] = {}
    for o in case.results("ganciclovir_concentration"):
        if course.start <= o.date <= on and o.value is not None:
            by_day.setdefault(o.date, []).append(o)
    for day, samples in sorted(by_day.items()):
        hours = [o.hours_after_dose for o in samples]
        if any(h is None for h in hours):
            gaps.append(
                Missing(
                    f"ganciclovir_concentration.hours_after_dose:{day}",
                    "each ganciclovir concentration needs the hours after the dose to compute an AUC0-12",
                )
            )
        elif not {Decimal(0), _DOSE_INTERVAL_H} <= set(hours):
            gaps.append(
                Missing(
                    f"ganciclovir_concentration:{day}",
                    "an AUC0-12 by the trapezoid rule needs a concentration at 0 h (pre-dose) and at 12 h",
                )
            )
        elif len(set(hours)) < len(hours):
            gaps.append(
                Missing(
                    f"ganciclovir_concentration:{day}",
                    "two concentrations at the same hour after the dose: give one per time point",
                )
            )
    return gaps


def tdm(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    context: str,
    course: Course,
    on: date,
) -> None:
    """The latest ganciclovir AUC12 (reported, or from concentrations) against the target rows.

    On the same date a reported AUC12 is preferred to one computed here.
    """
    exposures = _exposures(case, course, on)
    rows = [
        r
        for r in knowledge.table("monitoring_tdm", TdmRules).targets
        if r.applies(context, course.drug)
    ]
    if rows:
        for gap in _profile_gaps(case, course, on):
            if gap not in result.missing:
                result.missing.append(gap)
    if not exposures or not rows:
        return
    latest = max(exposures, key=lambda e: (e.day, e.method.startswith("reported"), e.value))
    row = rows[0]
    cited = result.cite(row, "ganciclovir AUC12 target and high-exposure level")
    auc = plain(latest.value)
    result.findings["ganciclovir_auc12"] = {
        "value": latest.value,
        "date": latest.day,
        "method": latest.method,
        "target": row.target_auc12,
        "high_at_or_above": row.high_at_or_above,
    }
    if latest.value >= row.high_at_or_above:
        result.alerts.append(
            Alert(
                AlertCode.HIGH_DRUG_EXPOSURE,
                Severity.WARNING,
                f"Ganciclovir AUC12 {auc} mg·h/L on {latest.day} ({latest.method}) is at or above "
                f"{plain(row.high_at_or_above)} (target about {plain(row.target_auc12)}): high exposure, "
                "earlier neutropenia; check the dose on the current weight and renal function, and the ANC.",
                cited,
            )
        )
    elif row.low_setting and settings.get(row.low_setting) is not None:
        low = Decimal(use_setting(result, settings, knowledge, row.low_setting) or 0)
        if latest.value < low:
            result.alerts.append(
                Alert(
                    AlertCode.CHECK_DOSING_ADHERENCE,
                    Severity.WARNING,
                    f"Ganciclovir AUC12 {auc} mg·h/L on {latest.day} ({latest.method}) is below the site level "
                    f"{plain(low)} (target about {plain(row.target_auc12)}): check dose, adherence and absorption.",
                    cited,
                )
            )
