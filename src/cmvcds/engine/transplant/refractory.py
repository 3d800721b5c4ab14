"""Refractory and resistant CMV: management options, ranked by the genotype (T23–T24).

The refractory call (Chemaly 2019, > 1 log10 rise or no fall after ≥ 2 weeks of appropriately
dosed therapy) comes from the monitoring engine (``refractory_calls``), which also decides
``resistance-genotyping``; the per-drug resistance levels come from the resistance engine
(``interpret_mutations``). This module only turns them into the ``antiviral-treatment`` decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case
from cmvcds.domain.results import Alert
from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome, Severity
from cmvcds.engine.dosing.patient import dose_patient_from_case
from cmvcds.engine.dosing.recommend import recommend_dose
from cmvcds.engine.monitoring import below_target, refractory_calls
from cmvcds.engine.resistance import interpret_mutations
from cmvcds.engine.transplant.common import (
    Plan,
    Tables,
    Therapy,
    add_alert,
    current_course,
    give,
    is_new,
    plasma_loads,
)
from cmvcds.errors import CmvcdsError
from cmvcds.knowledge.schemas.transplant import ManagementOption

__all__ = ["Status", "manage", "status"]

#: Resistance levels as the T24 rules read them; ``not_assessed`` (target gene not sequenced)
#: stays distinct from ``unknown`` (a change of uncharacterised effect).
_SUSCEPTIBLE, _LOW, _RESISTANT, _UNKNOWN = "susceptible", "low-level", "resistant", "unknown"
_NOT_ASSESSED = "not assessed (gene not sequenced)"
_LEVELS = {
    "susceptible": _SUSCEPTIBLE,
    "low": _LOW,
    "moderate": _RESISTANT,
    "high": _RESISTANT,
    "unknown": _UNKNOWN,
    "not_assessed": _NOT_ASSESSED,
}


@dataclass(frozen=True)
class Status:
    """What is known about refractoriness and resistance on ``on``."""

    refractory: AlertCode | None
    reason: str | None
    levels: dict[str, str]
    mutations: tuple[str, ...]
    course: Therapy | None
    #: Why the viral-load series cannot be judged (T20: baseline and latest load differ in
    #: specimen or unit); the decision is then ``insufficient_data``.
    mismatch: str | None = None
    #: The current drug's dose is below the dosing engine's target (T20: not appropriately dosed).
    underdosed: bool = False

    @property
    def resistant(self) -> bool:
        return any(level in (_LOW, _RESISTANT) for level in self.levels.values())

    @property
    def applies(self) -> bool:
        return self.refractory is not None or self.resistant


def status(case: Case, on: date, t: Tables, plan: Plan) -> Status:
    """Refractory call (monitoring engine, or worsening disease after ≥ 14 days) and genotype levels."""
    course = current_course(case, on, t.treatment.treatment_drugs.values)
    refractory: AlertCode | None = None
    reason: str | None = None
    for call in refractory_calls(case, plan.knowledge, on):
        if (
            call.evaluable
            and call.code is not None
            and (refractory is None or call.code is AlertCode.REFRACTORY_CMV)
        ):
            refractory, reason = (
                call.code,
                f"{call.series}: {call.reason} after {call.days_on_therapy} days",
            )
    minimum = int(t.treatment.min_treatment_days.value)
    p = case.presentation
    treating = course is not None and course.indication != "prophylaxis"
    mismatch = _assay_mismatch(case, on, course) if treating else None
    underdosed = (
        treating and course is not None and course.drug in below_target(case, plan.knowledge, on)
    )
    if course is not None and treating and p is not None and (on - course.start).days >= minimum:
        if p.course == "worsening":
            refractory, reason = (
                AlertCode.REFRACTORY_CMV,
                f"disease worsening after {(on - course.start).days} days of therapy",
            )
        elif (
            p.course == "stable"
            and p.disease in ("cmv_syndrome", "tissue_invasive")
            and refractory is None
        ):
            refractory = AlertCode.PROBABLE_REFRACTORY_CMV
            reason = f"no clinical improvement after {(on - course.start).days} days of therapy"
    if mismatch is not None or underdosed:
        # T20: no refractory call on loads that cannot be compared or on a dose below target.
        refractory, reason = None, None
        if underdosed and course is not None:
            add_alert(
                plan.result,
                AlertCode.CHECK_DOSING_ADHERENCE,
                Severity.WARNING,
                f"The {course.drug} dose in force is below the dosing engine's target: not appropriately "
                "dosed, so no refractory call (Chemaly 2019); correct the dose and check adherence.",
                plan.result.cite(t.treatment.min_treatment_days, "appropriately dosed therapy"),
            )
    levels: dict[str, str] = {}
    mutations: tuple[str, ...] = ()
    latest = case.latest_genotype(on)  # the genotyping decision reads the same one
    if latest is not None:
        try:
            report = interpret_mutations(
                list(latest.mutations), list(latest.genes_tested) or None, plan.knowledge
            )
        except CmvcdsError as error:
            plan.because(f"the genotype of {latest.date} cannot be interpreted: {error}")
        else:
            mutations = latest.mutations
            for drug_call in report.drugs:
                level = _LEVELS.get(drug_call.level.value, _UNKNOWN)
                if drug_call.flags and level in (_SUSCEPTIBLE, _LOW, _UNKNOWN):
                    # a flagged call (e.g. a combined UL97 + UL54 effect never measured) is read as
                    # at least resistant: never high-dose ganciclovir on a flagged "low-level" call
                    level = _RESISTANT
                    plan.because(
                        f"{drug_call.drug} {drug_call.level.value} call flagged "
                        + "; ".join(f"{f.code}: {f.text}" for f in drug_call.flags)
                        + ": read as resistant"
                    )
                levels[drug_call.drug] = level
                for source in drug_call.citations:
                    if source not in plan.citations:
                        plan.citations.append(source)
            for note in report.unverified:
                add_alert(
                    plan.result,
                    AlertCode.UNVERIFIED_FACT,
                    Severity.WARNING,
                    f"Not yet verified against its primary source (resistance report): {note}",
                )
    return Status(refractory, reason, levels, mutations, course, mismatch, underdosed)


def _assay_mismatch(case: Case, on: date, course: Therapy | None) -> str | None:
    """T20: the baseline (last blood load on or before the start) and the latest blood load must
    share specimen and unit; the text saying how they differ, else None."""
    if course is None:
        return None
    loads = [o for o in plasma_loads(case, on) if o.value is not None]
    before = [o for o in loads if o.date <= course.start]
    after = [o for o in loads if o.date > course.start]
    if not before or not after:
        return None
    baseline, latest = before[-1], after[-1]
    if (baseline.specimen, baseline.unit) == (latest.specimen, latest.unit):
        return None
    return (
        f"baseline {baseline.specimen} {baseline.unit} ({baseline.date}) and latest "
        f"{latest.specimen} {latest.unit} ({latest.date}) viral loads are not comparable"
    )


def manage(
    case: Case, on: date, t: Tables, plan: Plan, found: Status, *, population: str
) -> Outcome:
    """The ``antiviral-treatment`` outcome for refractory or resistant CMV (T23, T24)."""
    result = plan.result
    treatment = t.treatment
    plan.rule("T23")
    if found.refractory is not None:
        plan.because(f"{found.refractory.value.replace('-', ' ')}: {found.reason}")
    reduce = treatment.option("reduce-immunosuppression")
    add_alert(
        result,
        AlertCode.REDUCE_IMMUNOSUPPRESSION,
        Severity.WARNING,
        reduce.wording,
        result.cite(reduce, "reduce immunosuppression in refractory CMV"),
    )
    organs = case.presentation.organs if case.presentation else ()
    cns_ocular = [o for o in organs if o in treatment.specialist_organs.values]
    severe = bool(cns_ocular) or (
        case.presentation is not None
        and case.presentation.severity in treatment.iv_severities.values
    )
    if not found.resistant:
        return _pending(case, on, t, plan, found, severe, population)
    plan.rule("T24")
    gcv, fos = found.levels.get("ganciclovir", _UNKNOWN), found.levels.get("foscarnet", _UNKNOWN)
    cdv, mbv = found.levels.get("cidofovir", _UNKNOWN), found.levels.get("maribavir", _UNKNOWN)
    plan.because(
        "genotype "
        + ", ".join(found.mutations)
        + ": "
        + "; ".join(f"{drug} {level}" for drug, level in sorted(found.levels.items()))
    )
    if cdv == _RESISTANT and gcv == _RESISTANT:
        _option(
            plan, treatment.option("cidofovir"), "excluded: UL54 cross-resistance with ganciclovir"
        )
    if gcv == _LOW:
        if not severe:
            _option(
                plan,
                treatment.option("high-dose-ganciclovir"),
                "recommended for low-level ganciclovir resistance",
            )
            add_alert(
                result,
                AlertCode.MARROW_SUPPRESSION,
                Severity.WARNING,
                "High-dose ganciclovir: marrow suppression is more likely; blood counts as scheduled (at least "
                "weekly), more often if they fall.",
                treatment.option("high-dose-ganciclovir").citations,
            )
            if _maribavir_possible(case, on, t, plan, mbv, cns_ocular):
                _offer(case, on, plan, treatment.option("maribavir"), "alternative")
            if fos != _RESISTANT:
                _offer(case, on, plan, treatment.option("foscarnet"), "alternative")
            return _give(case, on, plan, t, treatment.option("high-dose-ganciclovir"), population)
        if fos != _RESISTANT:
            _option(
                plan, treatment.option("foscarnet"), "severe disease with ganciclovir resistance"
            )
            return _give(case, on, plan, t, treatment.option("foscarnet"), population)
        if _maribavir_possible(case, on, t, plan, mbv, cns_ocular):
            _option(
                plan,
                treatment.option("maribavir"),
                "severe disease with ganciclovir and foscarnet resistance",
            )
            return _give(case, on, plan, t, treatment.option("maribavir"), population)
        return _salvage(plan, t, "no susceptible drug among ganciclovir, foscarnet and maribavir")
    if gcv == _RESISTANT:
        _stop_ganciclovir(plan, t)
        if _maribavir_possible(case, on, t, plan, mbv, cns_ocular):
            _option(
                plan, treatment.option("maribavir"), "recommended for ganciclovir-resistant CMV"
            )
            if fos != _RESISTANT:
                _offer(case, on, plan, treatment.option("foscarnet"), "alternative")
            return _give(case, on, plan, t, treatment.option("maribavir"), population)
        if fos in (_SUSCEPTIBLE, _UNKNOWN, _NOT_ASSESSED):
            _option(
                plan,
                treatment.option("foscarnet"),
                "recommended: ganciclovir resistance, maribavir not suitable",
            )
            return _give(case, on, plan, t, treatment.option("foscarnet"), population)
        return _salvage(plan, t, "no susceptible drug among ganciclovir, maribavir and foscarnet")
    if fos == _RESISTANT and gcv == _SUSCEPTIBLE:
        _option(plan, treatment.option("ganciclovir"), "recommended: foscarnet resistance only")
        return _give(case, on, plan, t, treatment.option("ganciclovir"), population)
    return _pending(case, on, t, plan, found, severe, population)


def _option(plan: Plan, option: ManagementOption, verdict: str) -> None:
    plan.because(f"{option.wording} ({verdict})", (option, f"option {option.id}"))


def _offer(case: Case, on: date, plan: Plan, option: ManagementOption, verdict: str) -> None:
    """An option offered beside another (not given as the regimen): its wording, then the dose
    the dosing engine gives this patient for it (renal function, weight, co-medications: e.g.
    maribavir 800 mg q12h with carbamazepine, LIVTENCITY §2.2) and that dose's alerts (probe9 #4:
    the option named maribavir without a dose). No regimen is added: the choice is the
    specialist's, and a regimen is a recommended course."""
    _option(plan, option, verdict)
    if option.drug is None or option.indication is None:
        return
    try:
        dose = recommend_dose(
            dose_patient_from_case(case, on),
            option.drug,
            Indication(option.indication),
            plan.knowledge,
            regimen=option.regimen,
            route=option.route,
        )
    except CmvcdsError as error:
        plan.because(f"{option.drug} if chosen: no dose from the dosing engine ({error})")
        return
    running = any(
        t.drug == option.drug and t.start <= on and (t.stop is None or t.stop >= on)
        for t in case.therapy
    )
    for alert in dose.alerts:
        said = alert if running else _if_chosen(option.drug, alert)
        if is_new(alert, plan.result.alerts) and is_new(said, plan.result.alerts):
            plan.result.alerts.append(said)
    for missing in dose.missing:
        if missing not in plan.result.missing:
            plan.result.missing.append(missing)
    for source in dose.citations:
        if source not in plan.citations:
            plan.citations.append(source)
    chosen = dose.regimen
    if chosen is None:
        # review9b #4: say why (maribavir with rifampin: not recommended, LIVTENCITY §7), the
        # label row's citations are among the dose's, cited above
        why = "; ".join(
            a.message.rstrip(".") for a in dose.alerts if a.severity == Severity.CRITICAL
        )
        plan.because(
            f"{option.drug} if chosen: the dosing engine gives no dose for this patient "
            f"({dose.outcome.value}{': ' + why if why else ''}); see its alerts"
        )
        return
    plan.because(
        f"{option.drug} if chosen: {_mg(chosen.dose_mg)} mg, {chosen.schedule}, {chosen.route} "
        f"({chosen.band}; dosing engine)"
    )


def _if_chosen(drug: str, alert: Alert) -> Alert:
    """An offered option's dose alert, said as the option's (nothing of it is given yet): "maribavir
    if chosen: …", at most a warning. As it was, "Maribavir antagonises ganciclovir and
    valganciclovir: coadministration is not recommended" led the critical alerts of a patient on
    valganciclovir whom nobody was giving maribavir, above the overdose of the course she was on
    (tests/web/test_journey_transplant.py). The unverified-fact alerts stay as they are."""
    if alert.code is AlertCode.UNVERIFIED_FACT:
        return alert
    severity = Severity.WARNING if alert.severity is Severity.CRITICAL else alert.severity
    return Alert(alert.code, severity, f"{drug} if chosen: {alert.message}", alert.citations)


def _mg(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _pending(
    case: Case, on: date, t: Tables, plan: Plan, found: Status, severe: bool, population: str
) -> Outcome:
    """T23: no resistance known (yet): switch to foscarnet if severe, else specialist review."""
    treatment = t.treatment
    if severe:
        _option(
            plan,
            treatment.option("foscarnet"),
            "switch now: severe, CNS or ocular disease; specialist review",
        )
        return _give(case, on, plan, t, treatment.option("foscarnet"), population)
    latest = case.latest_genotype(on)
    if latest is not None:
        # probe11 W5 (b08): a genotype already reported is read, never "pending"
        genes = ", ".join(latest.genes_tested) or "genes not stated"
        what = (
            f"the genotype of {latest.date} ({genes}) found no mutation"
            if not latest.mutations
            else f"the genotype of {latest.date} shows {', '.join(latest.mutations)} (see the "
            "resistance report)"
        )
        if found.refractory is AlertCode.PROBABLE_REFRACTORY_CMV:
            plan.because(f"continue the current drug at a verified dose: {what}")
        else:
            plan.because(f"switch the drug: {what}")
    elif found.refractory is AlertCode.PROBABLE_REFRACTORY_CMV:
        plan.because("continue the current drug at a verified dose while genotyping is pending")
    else:
        plan.because("switch the drug while genotyping is pending")
    _offer(case, on, plan, treatment.option("maribavir"), "option")
    _offer(case, on, plan, treatment.option("foscarnet"), "option")
    return Outcome.SPECIALIST_REVIEW


def _salvage(plan: Plan, t: Tables, why: str) -> Outcome:
    _option(plan, t.treatment.option("combination-or-t-cells"), why)
    return Outcome.SPECIALIST_REVIEW


def _stop_ganciclovir(plan: Plan, t: Tables) -> None:
    option = t.treatment.option("maribavir")
    add_alert(
        plan.result,
        AlertCode.DRUG_INTERACTION,
        Severity.WARNING,
        "Stop (val)ganciclovir: ganciclovir resistance; maribavir must never be combined with (val)ganciclovir.",
        plan.result.cite(option, "maribavir antagonises ganciclovir"),
    )


def _maribavir_possible(
    case: Case, on: date, t: Tables, plan: Plan, level: str, cns_ocular: list[str]
) -> bool:
    treatment = t.treatment
    option = treatment.option("maribavir")
    if level == _RESISTANT:
        _option(plan, option, "excluded: maribavir resistance")
        return False
    if cns_ocular:
        _option(
            plan, option, f"excluded: {', '.join(cns_ocular)} (poor CNS and ocular penetration)"
        )
        add_alert(
            plan.result,
            AlertCode.POOR_CNS_OCULAR_PENETRATION,
            Severity.WARNING,
            "Maribavir is not suitable for CNS disease or retinitis.",
            option.citations,
        )
        return False
    patient = dose_patient_from_case(case, on)
    age, weight = patient.age_years, patient.weight_kg
    if (
        age is None
        or weight is None
        or age < treatment.maribavir_min_age_years.value
        or weight < treatment.maribavir_min_weight_kg.value
    ):
        plan.because(
            f"maribavir needs age ≥ {treatment.maribavir_min_age_years.value} years and weight ≥ "
            f"{treatment.maribavir_min_weight_kg.value} kg",
            (treatment.maribavir_min_age_years, "maribavir minimum age"),
            (treatment.maribavir_min_weight_kg, "maribavir minimum weight"),
        )
        return False
    if level != _SUSCEPTIBLE:
        _option(plan, option, f"not chosen: maribavir susceptibility {level}")
        return False
    return True


def _give(
    case: Case, on: date, plan: Plan, t: Tables, option: ManagementOption, population: str
) -> Outcome:
    """The regimen of ``option`` from the dosing engine, for the indication the option names."""
    assert option.drug is not None and option.indication is not None
    return give(
        plan,
        case,
        on,
        option.drug,
        Indication(option.indication),
        start=on,
        stop_rule="until clearance and clinical resolution (specialist)",
        population=population,
        regimen_name=option.regimen,
        route=option.route,
    )
