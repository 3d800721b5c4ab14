"""The frozen results of the dose calculator and their ``cmvcds-dose/1`` JSON (design.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.results import Alert, Missing, Regimen
from cmvcds.domain.vocabulary import Indication, Outcome
from cmvcds.engine.frozen import frozen
from cmvcds.engine.renal import Clearance

__all__ = [
    "DOSE_FORMAT",
    "DoseRegimen",
    "DoseResult",
    "RenalResult",
    "alert_dict",
    "schedule_wording",
]

DOSE_FORMAT = "cmvcds-dose/1"

#: How a clock interval is said on a prescription.
_SCHEDULES = {
    6: "every 6 hours",
    8: "every 8 hours",
    12: "twice daily",
    24: "once daily",
    48: "every 2 days",
    168: "once weekly",
    336: "every 2 weeks",
}


def schedule_wording(every_h: Decimal) -> str:
    hours = int(every_h) if every_h == every_h.to_integral_value() else None
    if hours is not None and hours in _SCHEDULES:
        return _SCHEDULES[hours]
    return f"every {every_h} hours"


@fast_init
@dataclass(frozen=True)
class RenalResult:
    """The renal function a dose was chosen on, with the band it fell in."""

    clearance: Clearance
    band: str | None = None
    crcl_ml_min: Fraction | None = None

    @property
    def value(self) -> Fraction:
        return self.clearance.value

    def to_dict(self) -> dict[str, Any]:
        c = self.clearance
        out: dict[str, Any] = {"method": c.method}
        key = {
            "mL/min": "crcl_ml_min",
            "mL/min/kg": "crcl_ml_min_kg",
            "mL/min/1.73 m²": "crcl_ml_min_173",
        }[c.unit]
        out[key] = c.rounded(3 if c.unit == "mL/min/kg" else 2)
        if self.crcl_ml_min is not None and key != "crcl_ml_min":
            out["crcl_ml_min"] = _number(self.crcl_ml_min, 2)
        if c.weight_basis is not None:
            out["weight_basis"] = c.weight_basis
        out["formula"] = c.formula
        out["inputs"] = dict(c.inputs)
        if self.band is not None:
            out["band"] = self.band
        if c.notes:
            out["notes"] = list(c.notes)
        out["citations"] = list(c.citations)
        return out


@dataclass(frozen=True)
class DoseRegimen:
    """One computed regimen; ``then`` is what follows it (induction → maintenance)."""

    dose_mg: Decimal
    every_h: Decimal | None
    schedule: str
    doses_per_week: Fraction
    route: str
    row: str
    band: str
    citations: tuple[str, ...]
    dose_mg_per_kg: Decimal | None = None
    calculated_mg: Decimal | None = None
    duration_days: int | None = None
    duration: str | None = None
    until_post_transplant_day: int | None = None
    formulation: str | None = None
    oral_solution_ml: Decimal | None = None
    administration: tuple[str, ...] = ()
    section: str | None = None
    then: DoseRegimen | None = None
    renally_adjusted: bool = False

    @property
    def daily_mg(self) -> Fraction:
        """Average mg per day (exact): dose × doses per week / 7."""
        return Fraction(*self.daily_ratio)

    @property
    def daily_ratio(self) -> tuple[int, int]:
        """``daily_mg`` as an exact (numerator, denominator) pair, not reduced: its float is the
        same (integer division rounds correctly), without building Fractions."""
        mg, per_week = self.dose_mg.as_integer_ratio(), self.doses_per_week
        return mg[0] * per_week.numerator, mg[1] * per_week.denominator * 7

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dose_mg": _number(self.dose_mg),
            "every_h": _number(self.every_h) if self.every_h is not None else None,
            "schedule": self.schedule,
            "route": self.route,
        }
        if self.dose_mg_per_kg is not None:
            out["dose_mg_per_kg"] = _number(self.dose_mg_per_kg)
        if self.calculated_mg is not None:
            out["calculated_mg"] = _number(self.calculated_mg, 2)
        out["daily_mg"] = _number(self.daily_mg, 2)
        if self.doses_per_week < 7:  # three times weekly, every 2 weeks: a daily figure misleads
            out["weekly_mg"] = _number(Fraction(self.dose_mg) * self.doses_per_week, 2)
        optional = {
            "duration_days": self.duration_days,
            "duration": self.duration,
            "until_post_transplant_day": self.until_post_transplant_day,
            "formulation": self.formulation,
            "oral_solution_ml": _number(self.oral_solution_ml)
            if self.oral_solution_ml is not None
            else None,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.administration:
            out["administration"] = list(self.administration)
        out["row"] = self.row
        out["band"] = self.band
        if self.section:
            out["section"] = self.section
        if self.then is not None:
            out["then"] = self.then.to_dict()
        return out


@dataclass(frozen=True)
class DoseResult:
    """The dose calculator's answer: an outcome, and a regimen only when ``recommended``."""

    outcome: Outcome
    drug: str
    indication: Indication
    renal: RenalResult | None
    regimen: DoseRegimen | None
    alerts: tuple[Alert, ...]
    citations: tuple[str, ...]
    reasons: tuple[str, ...]
    missing: tuple[Missing, ...]
    region: str = "us"
    regimen_id: str | None = None
    knowledge: dict[str, str] = field(default_factory=dict)
    #: inputs given that the chosen regimen never read: (input, why) — reported, never silent
    inputs_not_used: tuple[tuple[str, str], ...] = ()
    #: probe11 S4: the renal measure the dose used, when the patient gave more than one
    renal_basis: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``cmvcds-dose/1`` JSON document (design.md, "The dose calculator")."""
        out: dict[str, Any] = {
            "format": DOSE_FORMAT,
            "drug": self.drug,
            "indication": self.indication.value,
            "region": self.region,
            "outcome": self.outcome.value,
            "renal": self.renal.to_dict() if self.renal else None,
            "regimen": self.regimen.to_dict() if self.regimen else None,
            "alerts": [alert_dict(a) for a in self.alerts],
            "citations": list(self.citations),
            "reasons": list(self.reasons),
            "missing": [{"item": m.item, "why": m.why} for m in self.missing],
        }
        if self.renal_basis:
            out["renal_basis"] = self.renal_basis
        if self.inputs_not_used:
            out["inputs_not_used"] = [{"input": i, "why": w} for i, w in self.inputs_not_used]
        if self.knowledge:
            out["knowledge"] = dict(self.knowledge)
        return out

    def as_regimen(
        self, *, start: date | None = None, stop: date | None = None, stop_rule: str | None = None
    ) -> Regimen:
        """The first regimen as the assessment's ``Regimen`` (pathways add dates and stop rule)."""
        if self.regimen is None:
            raise ValueError(f"no regimen: the dose outcome is {self.outcome.value}")
        return _regimen(self, self.regimen, start, stop, stop_rule)

    def as_regimens(
        self, *, start: date | None = None, stop: date | None = None, stop_rule: str | None = None
    ) -> tuple[Regimen, ...]:
        """Every phase (induction, then maintenance …), each starting when the one before ends.

        ``stop`` and ``stop_rule`` apply to the last phase; an earlier phase stops after its
        ``duration_days`` (no date when its duration is not fixed).
        """
        if self.regimen is None:
            raise ValueError(f"no regimen: the dose outcome is {self.outcome.value}")
        phases: list[Regimen] = []
        current: DoseRegimen | None = self.regimen
        day = start
        while current is not None:
            last = current.then is None
            phase_stop = (
                stop
                if last
                else (
                    day + timedelta(days=current.duration_days)
                    if day and current.duration_days
                    else None
                )
            )
            phases.append(
                _regimen(self, current, day, phase_stop, stop_rule if last else current.duration)
            )
            day = phase_stop
            current = current.then
        return tuple(phases)

    def with_alerts(self, *alerts: Alert) -> DoseResult:
        return replace(self, alerts=self.alerts + tuple(a for a in alerts if a not in self.alerts))


def alert_dict(alert: Alert) -> dict[str, Any]:
    """An alert as the JSON documents show it."""
    return {
        "code": alert.code.value,
        "severity": alert.severity.value,
        "message": alert.message,
        "citations": list(alert.citations),
    }


def _regimen(
    result: DoseResult,
    phase: DoseRegimen,
    start: date | None,
    stop: date | None,
    stop_rule: str | None,
) -> Regimen:
    """The assessment's ``Regimen`` of ``phase``, its fields written at once (``frozen``: one
    per recommended course, issue 20)."""
    return frozen(
        Regimen,
        drug=result.drug,
        indication=result.indication.value,
        dose_mg=float(phase.dose_mg),
        every_h=float(phase.every_h) if phase.every_h is not None else None,
        route=phase.route,
        citations=result.citations,
        daily_mg=round(_quotient(phase.daily_ratio), 2),
        schedule=phase.schedule,
        start=start,
        stop=stop,
        stop_rule=stop_rule,
        dose_mg_per_kg=float(phase.dose_mg_per_kg) if phase.dose_mg_per_kg is not None else None,
        oral_solution_ml=float(phase.oral_solution_ml)
        if phase.oral_solution_ml is not None
        else None,
        duration_days=phase.duration_days,
        renal_basis=result.renal_basis,
    )


def _quotient(ratio: tuple[int, int]) -> float:
    """The float of an exact ratio (correctly rounded, as ``float(Fraction(...))``)."""
    return ratio[0] / ratio[1]


def _number(value: Decimal | Fraction, places: int | None = None) -> int | float:
    """JSON number: an int when integral, else a float (to ``places`` decimals when given)."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        return round(float(value), places if places is not None else 6)
    if value == value.to_integral_value():
        return int(value)
    return round(float(value), places) if places is not None else float(value)
