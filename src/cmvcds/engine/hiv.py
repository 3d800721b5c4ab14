"""CMV in adults and adolescents with HIV (transplant-hiv.md §3, rules H1–H9).

No primary prophylaxis and no pre-emptive therapy; retinitis: induction (intravitreal plus oral
valganciclovir when sight-threatening), maintenance, and stopping maintenance once CD4 has stayed
above the cut-off on ART for the site's window; restart when CD4 falls again. GI disease is treated
like transplant disease; neurological disease needs a specialist. Numbers from ``hiv_cmv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Missing, PathwayResult
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import AlertCode, DecisionId, Indication, Outcome, Severity
from cmvcds.engine.hiv_alternative import excluded, induction_alternative
from cmvcds.engine.hiv_maintenance import continue_induction, continue_maintenance
from cmvcds.engine.hiv_rna import hiv_rna
from cmvcds.engine.intravitreal import intravitreal_regimens, intravitreal_summary
from cmvcds.engine.monitoring import add_months, days_covered
from cmvcds.engine.transplant.common import (
    Plan,
    Tables,
    Therapy,
    add_alert,
    current_course,
    give,
    not_given,
    regimen,
    tables,
)
from cmvcds.engine.transplant.treatment import treat_disease
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel

__all__ = ["evaluate"]


def _on_art(case: Case, on: date) -> bool | None:
    """Whether the patient is on ART: as stated, else from a start date on or before ``on``."""
    if case.hiv is None:
        return None
    if case.hiv.on_art is not None:
        return case.hiv.on_art
    return True if case.hiv.art_start is not None and case.hiv.art_start <= on else None


def evaluate(case: Case, knowledge: Knowledge, on: date, settings: SiteSettings) -> PathwayResult:
    """The HIV decisions for ``case`` on ``on``."""
    result = PathwayResult()
    t = tables(knowledge)
    h = t.hiv
    prophylaxis = Plan(result, knowledge, settings, DecisionId.ANTIVIRAL_PROPHYLAXIS)
    preemptive = Plan(result, knowledge, settings, DecisionId.PREEMPTIVE_THERAPY)
    treatment = Plan(result, knowledge, settings, DecisionId.ANTIVIRAL_TREATMENT)
    cd4 = [o for o in case.results("cd4") if o.date <= on and o.value is not None]
    on_art = _on_art(case, on)
    if case.hiv and case.hiv.art_start and case.hiv.art_start <= on:
        result.findings["art"] = {
            "since": case.hiv.art_start.isoformat(),
            "days": (on - case.hiv.art_start).days,
        }
    hiv_rna(result, case, on, t, on_art)
    if cd4:
        result.findings["cd4"] = {
            "value": int(cd4[-1].value or 0),
            "date": cd4[-1].date.isoformat(),
        }
    if on_art is not True:
        within = int(h.art_start_within_days.value)
        first = min(
            (c.start for c in case.therapy if c.drug in h.anti_cmv_drugs.values and c.start <= on),
            default=None,
        )
        if first is not None and (on - first).days > within:
            text = (
                f"Start ART now: anti-CMV therapy began on {first}, {(on - first).days} days ago "
                f"(ART is due within about {within} days of it)."
            )
        else:
            text = (
                f"Start ART (within about {within} days of starting anti-CMV therapy when CMV disease "
                "is treated)."
            )
        add_alert(
            result, AlertCode.START_ART, Severity.WARNING, text, h.art_start_within_days.citations
        )
        result.cite(h.art_start_within_days, "ART timing")
    organs = case.presentation.organs if case.presentation else ()
    retinitis = case.hiv.retinitis if case.hiv else None
    has_retinitis = retinitis is not None or any(o in h.retinitis_organs.values for o in organs)
    end_organ = has_retinitis or (
        case.presentation is not None and case.presentation.disease == "tissue_invasive"
    )
    prophylaxis.rule("H2")
    prophylaxis.because(
        _no_prophylaxis(cd4[-1] if cd4 else None, on_art, h.cd4_cutoff_per_ul.value, has_retinitis),
        (h.cd4_cutoff_per_ul, "CD4 cut-off"),
    )
    prophylaxis.done(Outcome.NOT_INDICATED)
    preemptive.rule("H2")
    preemptive.because(
        "asymptomatic CMV DNAemia is not treated pre-emptively; look for end-organ disease (fundoscopy)",
        (h.cd4_cutoff_per_ul, "CD4 cut-off"),
    )
    preemptive.done(Outcome.NOT_INDICATED)
    low_cd4 = bool(cd4) and cd4[-1].value is not None and cd4[-1].value < h.cd4_cutoff_per_ul.value
    if low_cd4 and not has_retinitis:
        add_alert(
            result,
            AlertCode.OPHTHALMOLOGY_FOLLOW_UP,
            Severity.INFO,
            f"CD4 below {int(h.cd4_cutoff_per_ul.value)} cells/µL: dilated fundoscopy to screen for CMV retinitis.",
            h.ophthalmology_interval_days.citations,
        )
    if not end_organ:
        return result
    neuro = [o for o in organs if o in h.neurological_organs.values]
    gut = [o for o in organs if o in h.gi_organs.values]
    if neuro:
        _neurological(case, on, t, treatment, neuro)
    elif has_retinitis:
        _retinitis(case, on, t, treatment, cd4, on_art)
    elif gut:
        treatment.rule("H8")
        treatment.because(
            f"gastrointestinal CMV disease: treat {int(h.gi_duration_days.low)}–{int(h.gi_duration_days.high)} "
            "days or until symptoms resolve; no maintenance unless it relapses",
            (h.gi_duration_days, "GI disease duration"),
        )
        treatment.done(
            treat_disease(
                case,
                on,
                t,
                treatment,
                population="hiv",
                threshold_setting="pet_threshold_iu_ml.sot",
            )
        )
    else:
        treatment.rule("H1")
        treatment.because(
            f"CMV end-organ disease ({', '.join(organs) or 'unspecified'}) in HIV: specialist plan"
        )
        treatment.done(Outcome.SPECIALIST_REVIEW)
    return result


def _no_prophylaxis(
    latest: Observation | None, on_art: bool | None, cutoff: Decimal, retinitis: bool
) -> str:
    """Rule H2 in this patient's facts (probe9 finding 10: "ART keeps CD4 above the cut-off" was
    printed for a patient with CD4 30 not on ART). ART that keeps CD4 above the cut-off is the
    prevention (US HIV OI guideline), whatever the count today."""
    head = "no primary CMV prophylaxis with valganciclovir in HIV: the prevention is ART that keeps CD4 above"
    head += f" {int(cutoff)} cells/µL"
    art = (
        "on ART"
        if on_art is True
        else "not on ART: start ART (see its alert)"
        if on_art is False
        else "ART not stated: start ART if not on it"
    )
    if latest is None or latest.value is None:
        return f"{head}; {art}; no CD4 count given"
    count = f"CD4 {int(latest.value)} cells/µL on {latest.date}"
    if latest.value >= cutoff:
        return f"{head}; {art}; {count}"
    if retinitis:
        return f"{head}; {art}; {count} is below it"
    return f"{head}; {art}; {count} is below it: dilated fundoscopy to look for retinitis"


def _neurological(case: Case, on: date, t: Tables, plan: Plan, organs: list[str]) -> None:
    plan.rule("H9")
    plan.because(
        f"{', '.join(organs)}: IV ganciclovir plus IV foscarnet induction, optimise ART; specialist",
        (t.hiv.neurological_organs, "neurological CMV disease"),
    )
    for drug in ("ganciclovir", "foscarnet"):
        if not_given(plan, case, drug):
            continue
        regimen(
            plan.result,
            case,
            plan.knowledge,
            on,
            drug,
            Indication.INDUCTION,
            start=on,
            stop_rule="specialist: until clinical stabilisation, then maintenance",
            population="hiv",
            route="iv",
        )
    option = t.treatment.option("maribavir")
    plan.because("maribavir excluded: poor CNS penetration", (option, "maribavir in CNS disease"))
    add_alert(
        plan.result,
        AlertCode.POOR_CNS_OCULAR_PENETRATION,
        Severity.WARNING,
        "Maribavir is not suitable for CNS disease.",
        option.citations,
    )
    plan.done(Outcome.SPECIALIST_REVIEW)


def _anti_cmv_days(case: Case, on: date, t: Tables) -> int:
    return days_covered(
        (course.start, min(course.stop or on, on))
        for course in case.therapy
        if course.drug in t.hiv.anti_cmv_drugs.values and course.start <= on
    )


def _retinitis(
    case: Case, on: date, t: Tables, plan: Plan, cd4: Sequence[Observation], on_art: bool | None
) -> None:
    h = t.hiv
    result = plan.result
    retinitis = case.hiv.retinitis if case.hiv else None
    add_alert(
        result,
        AlertCode.IMMUNE_RECOVERY_UVEITIS,
        Severity.INFO,
        "Immune recovery uveitis is common after ART-driven CD4 recovery: ophthalmology follow-up.",
        result.cite(h.immune_recovery_uveitis, "immune recovery uveitis"),
    )
    add_alert(
        result,
        AlertCode.OPHTHALMOLOGY_FOLLOW_UP,
        Severity.INFO,
        f"Ophthalmology review about every {int(h.ophthalmology_interval_days.value)} days (retinitis activity, relapse, IRU).",
        result.cite(h.ophthalmology_interval_days, "ophthalmology interval"),
    )
    active = retinitis.active if retinitis else None
    if active is None:
        result.missing.append(
            Missing(
                "hiv.retinitis.active",
                "an ophthalmologist must say whether the retinitis is active",
            )
        )
        plan.rule("H6")
        plan.because(
            "retinitis activity unknown: ophthalmology assessment needed (active lesions are induced, "
            "inactive ones maintained or stopped)",
            (h.induction_days, "induction of active retinitis"),
            (h.cd4_window_months, "stopping maintenance needs inactive lesions"),
        )
        plan.done(Outcome.INSUFFICIENT_DATA)
        return
    on_maintenance = any(
        c.drug in h.anti_cmv_drugs.values and c.start <= on and (c.stop is None or c.stop >= on)
        for c in case.therapy
    )
    treated_before = any(c.drug in h.anti_cmv_drugs.values and c.start <= on for c in case.therapy)
    if active:
        _induction(
            case,
            on,
            t,
            plan,
            retinitis.zone if retinitis else None,
            retinitis.sight_threatening if retinitis else None,
        )
        return
    if treated_before and not on_maintenance:
        _restart_or_stay_off(case, on, t, plan, cd4)
        return
    _maintenance_or_stop(case, on, t, plan, cd4, on_art)


def _induction(
    case: Case, on: date, t: Tables, plan: Plan, zone: int | None, sight_threatening: bool | None
) -> None:
    """H3 / H4: intravitreal therapy for a sight-threatening lesion: as the ophthalmologist states
    it (``sight_threatening``), else zone 1 (``sight_threatening_zones``) is read as sight-threatening
    (US HIV OI guideline: intravitreal ganciclovir or foscarnet with systemic therapy)."""
    h = t.hiv
    fovea = int(h.sight_threatening_fovea_um.value)
    definition = f"within {fovea} µm of the fovea or adjacent to the optic nerve"
    by_zone = (
        sight_threatening is None
        and zone is not None
        and str(zone) in h.sight_threatening_zones.values
    )
    intravitreal = sight_threatening is True or by_zone
    running = current_course(case, on, h.anti_cmv_drugs.values)
    inducing = (
        running if running is not None and running.indication in (None, "induction") else None
    )
    days = _label_induction_days(plan, inducing) if inducing is not None else None
    if days is None:
        days = plan.setting("hiv_induction_days")
    elif inducing is not None:
        plan.because(
            f"{inducing.drug} induction lasts as its label says ({days} days), not the site's "
            "hiv_induction_days",
            (h.label_induction_drugs, f"{inducing.drug} induction length"),
        )
    if days is None:
        plan.rule("H3" if intravitreal else "H4")
        plan.because(
            f"retinitis induction for {int(h.induction_days.low)}–{int(h.induction_days.high)} days; "
            "the site's length hiv_induction_days is not set",
            (h.induction_days, "induction length"),
        )
        plan.done(Outcome.INSUFFICIENT_DATA)
        return
    if inducing is None or inducing.drug not in h.label_induction_drugs.values:
        plan.cite_setting("hiv_induction_days")
    start = inducing.start if inducing is not None else on
    stop = start + timedelta(days=int(days))
    intervals = _label_intervals(plan, inducing) if inducing is not None else None
    # review12 W1: a label's fixed induction (cidofovir: 2 weekly doses, days 0 and 7) is over
    # on day 14 itself (the day is exclusive: a third weekly dose would fall on it)
    if stop < on or (intervals is not None and stop <= on):
        _induction_overrun(case, on, plan, start, stop, int(days), inducing, intervals)
        return
    where = f"zone {zone}" if zone is not None else "zone not stated"
    if by_zone:
        plan.rule("H3")
        plan.because(
            f"zone {zone} retinitis (the posterior pole) read as sight-threatening: intravitreal "
            f"ganciclovir or foscarnet injections plus oral valganciclovir induction for {days} days",
            (h.induction_days, "induction length"),
            (h.sight_threatening_zones, "zone 1 retinitis is sight-threatening"),
        )
        plan.because(
            f"the ophthalmologist may state that the lesion is not immediately sight-threatening "
            f"({definition}): then oral induction alone"
        )
    elif intravitreal:
        plan.rule("H3")
        plan.because(
            f"immediately sight-threatening retinitis ({definition}; {where}): intravitreal ganciclovir or "
            f"foscarnet injections plus oral valganciclovir induction for {days} days",
            (h.induction_days, "induction length"),
            (h.sight_threatening_fovea_um, "immediately sight-threatening retinitis"),
        )
    else:
        plan.rule("H4")
        plan.because(
            f"retinitis ({where}) not reported as immediately sight-threatening: oral valganciclovir "
            f"induction for {days} days, no intravitreal therapy",
            (h.induction_days, "induction length"),
            (h.sight_threatening_fovea_um, "immediately sight-threatening retinitis"),
        )
        if sight_threatening is None and zone is None:
            plan.because(
                f"ophthalmologist to state whether the lesion is immediately sight-threatening ({definition}): "
                "if it is, intravitreal ganciclovir or foscarnet is added to the oral induction"
            )
    if start < on:
        plan.because(f"induction running since {start}: continue to day {days} ({stop})")
    barred: tuple[str, ...] = ()
    if intravitreal:
        for row in h.intravitreal:
            plan.cite(row, f"intravitreal {row.drug} dose")
        plan.because(f"{intravitreal_summary(plan.knowledge)} (H3)")
        barred = tuple(
            r.drug
            for r in h.intravitreal
            if not_given(plan, case, r.drug, f"intravitreal {r.drug}")
        )
    until = f"induction for {days} days, then maintenance"
    if inducing is not None and inducing.drug != "valganciclovir":
        # debt22: the running course is continued as the drug it is, never re-read as a
        # valganciclovir induction dated from its start
        if not continue_induction(plan, case, on, inducing, stop, until):
            _valganciclovir(case, on, plan, Indication.INDUCTION, stop, until)
    else:
        _valganciclovir(case, on, plan, Indication.INDUCTION, stop, until, start=start)
    if intravitreal:
        plan.result.regimens.extend(intravitreal_regimens(plan.knowledge, start, barred))


def _label_induction_days(plan: Plan, running: Therapy) -> int | None:
    """The label's fixed induction length of ``running``'s drug (``label_induction_drugs``:
    cidofovir, two weekly doses), read from its label's induction regimen; None for the others
    (the site's ``hiv_induction_days``) or when the label gives no single length."""
    if running.drug not in tables(plan.knowledge).hiv.label_induction_drugs.values:
        return None
    label = plan.knowledge.tables.get(f"drug_{running.drug}")
    if not isinstance(label, DrugLabel):
        return None
    lengths = {
        r.duration_days
        for r in label.regimens
        if "induction" in r.indications and r.duration_days is not None
    }
    return lengths.pop() if len(lengths) == 1 else None


def _label_intervals(plan: Plan, running: Therapy) -> tuple[int, int] | None:
    """``(induction, maintenance)`` dosing intervals in hours of a label-fixed induction drug
    (``label_induction_drugs``: cidofovir 168 h then 336 h, VISTIDE Dosage and administration),
    read from its label's regimens; None for the other drugs or when the label gives no single
    interval for either phase."""
    if _label_induction_days(plan, running) is None:
        return None
    label = plan.knowledge.tables.get(f"drug_{running.drug}")
    if not isinstance(label, DrugLabel):
        return None
    found = []
    for phase in ("induction", "maintenance"):
        every = {
            band.every_h
            for r in label.regimens
            if phase in r.indications
            for band in r.bands
            if band.every_h is not None and not band.dialysis
        }
        if len(every) != 1:
            return None
        found.append(int(every.pop()))
    return found[0], found[1]


def _induction_overrun(
    case: Case,
    on: date,
    plan: Plan,
    start: date,
    stop: date,
    days: int,
    running: Therapy | None = None,
    intervals: tuple[int, int] | None = None,
) -> None:
    """Induction started on ``start`` ran past its planned ``days``: step down to maintenance now.

    review12 W1: for a label-fixed induction (``intervals``: cidofovir every 168 h for 14 days)
    the last induction dose is the last interval before ``stop`` and the first maintenance dose
    is one maintenance interval after it (VISTIDE: weekly × 2, then every 2 weeks: doses on days
    0 and 7, maintenance from day 21), not today."""
    plan.rule("H5")
    first = on
    if intervals is not None:
        every, then = intervals
        hours = days * 24
        last = start + timedelta(hours=((hours - 1) // every) * every)
        first = max(on, last + timedelta(hours=then))
        plan.because(
            f"induction started on {start} was planned for {days} days (to {stop}), its last "
            f"dose on {last}: maintenance from {first}, ophthalmology to confirm response"
        )
    else:
        plan.because(
            f"induction started on {start} was planned for {days} days (to {stop}); it is "
            f"{(on - stop).days} days overdue: step down to maintenance now, ophthalmology to confirm response"
        )
    if on > stop:
        add_alert(
            plan.result,
            AlertCode.THERAPY_BEYOND_EVIDENCE,
            Severity.WARNING,
            f"Retinitis induction since {start} has run {(on - start).days} days, beyond its planned {days} days "
            f"(stop {stop}): step down to maintenance; review activity with ophthalmology.",
            plan.citations,
        )
    until = "until the stop criteria are met (ART, inactive lesions, CD4, duration)"
    if (
        running is not None
        and running.drug != "valganciclovir"
        and continue_maintenance(
            plan, case, on, Therapy(running.drug, first, None, running.route, "maintenance"), until
        )
    ):
        return  # the drug in force steps down to its own maintenance (debt22)
    _valganciclovir(case, on, plan, Indication.MAINTENANCE, None, until)


def _maintenance_or_stop(
    case: Case, on: date, t: Tables, plan: Plan, cd4: Sequence[Observation], on_art: bool | None
) -> None:
    """H5 / H6: continue maintenance until the stop criteria are all met."""
    h = t.hiv
    window = plan.setting("hiv_cd4_sustained_months")
    minimum = plan.setting("hiv_min_therapy_months")
    plan.rule("H6")
    if window is None or minimum is None:
        plan.because(
            "the stop rule needs the site's hiv_cd4_sustained_months and hiv_min_therapy_months"
        )
        plan.done(Outcome.INSUFFICIENT_DATA)
        return
    plan.cite_setting("hiv_cd4_sustained_months")
    cutoff = h.cd4_cutoff_per_ul.value
    plan.cite(h.cd4_cutoff_per_ul, "CD4 cut-off")
    unmet = []
    if on_art is not True:
        unmet.append("not on ART")
    therapy_days = _anti_cmv_days(case, on, t)
    first = min((c.start for c in case.therapy if c.drug in h.anti_cmv_drugs.values), default=None)
    if first is None or add_months(first, int(minimum)) > on:
        unmet.append(f"anti-CMV therapy for less than {minimum} months ({therapy_days} days)")
    run_start = None
    for count in cd4:
        if count.value is not None and count.value <= cutoff:
            run_start = None
        elif run_start is None:
            run_start = count.date
    if run_start is None:
        unmet.append(f"latest CD4 not above {cutoff} cells/µL")
    elif add_months(run_start, int(window)) > on:
        unmet.append(
            f"CD4 above {cutoff} cells/µL only since {run_start} (less than {window} months)"
        )
    if unmet:
        plan.rule("H5")
        plan.because("continue maintenance: " + "; ".join(unmet))
        running = current_course(case, on, h.anti_cmv_drugs.values)
        until = "until the stop criteria are met (ART, inactive lesions, CD4, duration)"
        if (
            running is not None
            and running.indication == "maintenance"
            and running.drug != "valganciclovir"
            and continue_maintenance(plan, case, on, running, until)
        ):
            return
        _valganciclovir(
            case,
            on,
            plan,
            Indication.MAINTENANCE,
            None,
            until,
            start=running.start
            if running is not None
            and running.indication == "maintenance"
            and running.drug == "valganciclovir"
            else None,
        )
        return
    plan.because(
        f"stop maintenance: on ART, inactive retinitis, anti-CMV therapy ≥ {minimum} months, every CD4 above {cutoff} "
        f"cells/µL since {run_start} (≥ {window} months); continue regular ophthalmology",
        (h.cd4_window_months, "CD4 window"),
        (h.min_therapy_months, "minimum therapy"),
    )
    assert run_start is not None
    if add_months(run_start, int(h.cd4_window_months.high)) > on or (
        first is not None and add_months(first, int(h.min_therapy_months.high)) > on
    ):
        add_alert(
            plan.result,
            AlertCode.CONFIG_RANGE,
            Severity.INFO,
            f"Stopping depends on the site's choice inside the guideline's {int(h.cd4_window_months.low)}–"
            f"{int(h.cd4_window_months.high)} months (hiv_cd4_sustained_months = {window}, "
            f"hiv_min_therapy_months = {minimum}).",
            h.cd4_window_months.citations,
        )
    plan.done(Outcome.NOT_INDICATED)


def _restart_or_stay_off(
    case: Case, on: date, t: Tables, plan: Plan, cd4: Sequence[Observation]
) -> None:
    """H7: maintenance stopped earlier; restart when CD4 falls below the cut-off."""
    h = t.hiv
    plan.rule("H7")
    cutoff = h.cd4_cutoff_per_ul.value
    plan.cite(h.cd4_cutoff_per_ul, "CD4 cut-off for restarting")
    latest = cd4[-1] if cd4 else None
    if latest is None:
        plan.because("maintenance stopped; no CD4 count to decide on restarting")
        plan.result.missing.append(
            Missing("cd4", "restarting maintenance depends on the CD4 count")
        )
        plan.done(Outcome.INSUFFICIENT_DATA)
        return
    if latest.value is not None and latest.value < cutoff:
        plan.because(
            f"CD4 {latest.value} cells/µL on {latest.date} is below {cutoff}: restart maintenance"
        )
        _valganciclovir(
            case, on, plan, Indication.MAINTENANCE, None, "until the stop criteria are met again"
        )
        return
    plan.because(
        f"maintenance stopped; CD4 {latest.value} cells/µL on {latest.date}: stay off, regular ophthalmology"
    )
    plan.done(Outcome.NOT_INDICATED)


def _valganciclovir(
    case: Case,
    on: date,
    plan: Plan,
    indication: Indication,
    stop: date | None,
    stop_rule: str,
    *,
    start: date | None = None,
) -> None:
    """Close ``plan`` with the dosing engine's valganciclovir regimen (specialist if it gives none);
    for induction, the guideline's IV alternative when valganciclovir is excluded (probe11 W4)."""
    if indication is Indication.INDUCTION and excluded(case, on, plan, "valganciclovir", indication):
        # review12 W4: a drug not yet given starts today, never dated from the excluded drug's
        # start; its induction has the planned length from today
        moved = start is not None and stop is not None and start < on
        if moved:
            assert start is not None and stop is not None
            stop = on + (stop - start)
        outcome = induction_alternative(case, on, tables(plan.knowledge), plan, stop, stop_rule, on)
        if moved and outcome is Outcome.RECOMMENDED:
            assert stop is not None
            plan.because(
                f"the alternative starts today ({on}): a full induction of {(stop - on).days} days "
                f"to {stop}; the days already given since {start} are the prescriber's to count"
            )
        plan.done(outcome)
        return
    plan.done(
        give(
            plan,
            case,
            on,
            "valganciclovir",
            indication,
            start=start or on,
            stop=stop,
            stop_rule=stop_rule,
            population="hiv",
        )
    )
