"""``DosePatient``: what a dose needs to know about a patient, in canonical units named in fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case, Observation, Pregnancy
from cmvcds.domain.gestational_age import GestationalAge
from cmvcds.domain.memo import same_call
from cmvcds.domain.vocabulary import Context
from cmvcds.engine.frozen import frozen
from cmvcds.engine.same_time import current

__all__ = ["DosePatient", "dose_patient_from_case"]


@dataclass(frozen=True)
class DosePatient:
    """The patient as the dose calculator sees it; None means not known (never guessed).

    ``age_years`` is in whole years for a birth date; ``age_months`` in whole calendar months
    (derived from ``age_years`` when only that is known). ``creatinine_mg_dl`` is serum creatinine
    in mg/dL (µmol/L ÷ 88.4). ``dialysis`` is ``none``, ``hemodialysis``, ``peritoneal`` or ``crrt``.
    """

    age_years: Decimal | None
    age_days: int | None
    sex: str | None
    weight_kg: Decimal | None
    height_cm: Decimal | None
    creatinine_mg_dl: Decimal | None
    egfr_ml_min_173: Decimal | None
    measured_crcl_ml_min: Decimal | None
    dialysis: str = "none"
    birth_weight_for_gestational_age: str | None = None
    gestational_age_at_birth_weeks: int | None = None
    anc_per_ul: Decimal | None = None
    platelets_per_ul: Decimal | None = None
    hemoglobin_g_dl: Decimal | None = None
    urine_protein_mg_dl: Decimal | None = None
    co_medications: tuple[str, ...] = ()
    stopped_days_ago: tuple[tuple[str, int], ...] = ()
    intolerances: tuple[str, ...] = ()
    age_months: int | None = None
    transplant_organ: str | None = None
    urine_protein_dipstick: str | None = None
    child_pugh: str | None = None
    assessed_on: date | None = None
    renal_observations: tuple[Observation, ...] = ()
    pregnancy: Pregnancy | None = None
    #: the date of the weight observation ``weight_kg`` comes from (None: ``patient.weight_kg``,
    #: undated: an infant's per-kg dose on it is flagged, engine/weight_age.py)
    weight_date: date | None = None
    #: the weighing before the one ``weight_kg`` comes from (its date and kg): a weight far from
    #: it is doubted, and no dose is computed on it (probe8 S2, ``recommend._weight_doubt``)
    previous_weight: tuple[date, Decimal] | None = None
    #: the case carries a pregnancy in any context (``Case.carries_pregnancy``, or the pregnancy
    #: context): the labels' pregnancy checks read it (probe14 S1); False is "not recorded as
    #: pregnant", never "known not pregnant"
    pregnant: bool = False

    @property
    def whole_months(self) -> int | None:
        """Age in whole months: as given, else from whole years (a lower bound)."""
        if self.age_months is not None:
            return self.age_months
        if self.age_years is not None:
            return int(self.age_years * 12)
        return None


@same_call
def dose_patient_from_case(case: Case, on: date) -> DosePatient:
    """The ``DosePatient`` of ``case`` on ``on``: the latest value of each measurement up to ``on``.

    Weight and height: the latest ``weight``/``height`` observation, else ``patient.weight_kg``/
    ``height_cm``. Sex: as given; a case with a pregnancy (section or context) is a woman's. Co-medications: ``transplant.co_medications``, every therapy course and every
    ``medications`` course running on ``on``; ``stopped_days_ago`` holds each medication stopped
    before ``on`` with the days since its last day (for look-back rules: cidofovir). Built once
    per case and day (the pathways of one assessment ask for it several times).
    """
    patient = case.patient
    # the observations of the codes read here, in one pass, each code's in the case's order: the
    # reading that stands on a day depends only on the order within its (latest) date, which
    # the case's order is, as ``Case.results`` (sorted by date, stably) keeps it
    readings: dict[str, list[Observation]] = {}
    for o in case.observations:
        if o.code in _READ:
            readings.setdefault(o.code, []).append(o)

    def latest(code: str, specimen: str | None = None) -> Observation | None:
        # two different results on the latest date contradict each other: unknown, never the one
        # written last (engine/same_time.py; ``assess`` says so in a contradictory-input alert)
        found = readings.get(code)
        if found and specimen is not None:
            found = [o for o in found if o.specimen == specimen]
        return current(found, on) if found else None

    def measured(code: str) -> bool:
        return any(o.date <= on and o.value is not None for o in readings.get(code, ()))

    def value(observation: Observation | None) -> Decimal | None:
        return observation.value if observation else None

    # each measurement is looked up once (the renal ones serve twice: values and observations)
    weighed = latest("weight")
    protein = latest("urine_protein")
    protein_value = protein.value if protein else None
    dipstick = protein.result if protein and protein.value is None else None
    creatinine = latest("creatinine")
    egfr = latest("egfr")
    crcl = latest("creatinine_clearance_24h")

    co_medications = list(case.co_medications_on(on))
    for course in case.therapy:
        if course.start <= on and (course.stop is None or course.stop >= on):
            co_medications.append(course.drug)
    stopped = {
        m.drug: (on - m.stop).days
        for m in sorted(case.medications, key=lambda m: m.stop or on)
        if m.stop is not None and m.start <= m.stop < on and m.drug not in co_medications
    }

    # an infant's case may hold its prenatal amniotic-fluid results: never the infant's pregnancy
    pregnant = case.context is not Context.CONGENITAL and (
        case.carries_pregnancy or case.context is Context.PREGNANCY
    )
    renal = tuple(o for o in (creatinine, egfr, crcl) if o is not None)

    ga_weeks = None
    if case.congenital and case.congenital.gestational_age_at_birth:
        ga_weeks = GestationalAge.parse(case.congenital.gestational_age_at_birth).weeks

    return frozen(
        DosePatient,
        age_years=patient.age_on(on),
        age_days=patient.age_days_on(on),
        age_months=_whole_months(patient.birth_date, on) if patient.birth_date else None,
        sex=patient.sex.value if patient.sex else ("female" if pregnant else None),
        weight_kg=value(weighed) if measured("weight") else patient.weight_kg,
        height_cm=value(latest("height")) if measured("height") else patient.height_cm,
        creatinine_mg_dl=value(creatinine),
        egfr_ml_min_173=value(egfr),
        measured_crcl_ml_min=value(crcl),
        dialysis=patient.dialysis,
        birth_weight_for_gestational_age=patient.birth_weight_for_gestational_age,
        gestational_age_at_birth_weeks=ga_weeks,
        anc_per_ul=value(latest("anc")),
        platelets_per_ul=value(latest("platelets", "blood")),
        hemoglobin_g_dl=value(latest("hemoglobin")),
        urine_protein_mg_dl=protein_value,
        urine_protein_dipstick=dipstick,
        co_medications=tuple(dict.fromkeys(co_medications)),
        stopped_days_ago=tuple(sorted(stopped.items())),
        intolerances=patient.intolerances,
        transplant_organ=case.transplant.organ if case.transplant else None,
        child_pugh=patient.child_pugh,
        assessed_on=on,
        renal_observations=renal,
        pregnancy=case.pregnancy,
        weight_date=weighed.date if weighed is not None else None,
        previous_weight=_previous(readings.get("weight", []), weighed),
        pregnant=pregnant,
    )


def _previous(weights: list[Observation], weighed: Observation | None) -> tuple[date, Decimal] | None:
    """The latest weight dated before ``weighed`` (the weight in use), as (date, kg)."""
    if weighed is None:
        return None
    earlier = [o for o in weights if o.date < weighed.date and o.value is not None]
    if not earlier:
        return None
    last = max(earlier, key=lambda o: o.date)  # the first of a day kept: max is stable
    assert last.value is not None
    return last.date, last.value


#: The observation codes a dose reads.
_READ = frozenset(
    {
        "weight",
        "height",
        "urine_protein",
        "creatinine",
        "egfr",
        "creatinine_clearance_24h",
        "anc",
        "platelets",
        "hemoglobin",
    }
)


def _whole_months(birth: date, on: date) -> int:
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    if on.day < birth.day:
        months -= 1
    return max(months, 0)
