"""Is resistance suspected? Confirmed rises, refractory calls and breakthrough -> genotyping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case, Genotype
from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.results import Alert, Decision, Missing, PathwayResult, ScheduleItem
from cmvcds.domain.settings import SiteSettings, use_setting
from cmvcds.domain.vocabulary import (
    AlertCode,
    DecisionId,
    Outcome,
    ScheduleEvent,
    Severity,
)
from cmvcds.engine.kinetics import (
    Marker,
    Series,
    confirmed_rise,
)
from cmvcds.engine.monitoring.common import BLOOD, log10_text, plain
from cmvcds.engine.monitoring.courses import Course, Episode, episode_of, episodes
from cmvcds.engine.monitoring.dose import treatment_dose
from cmvcds.engine.monitoring.refractory import below_target, refractory_calls
from cmvcds.engine.resistance import interpret_mutations
from cmvcds.errors import CmvcdsError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.monitoring import (
    KineticsRules,
    ResistanceRise,
)


def kinetics(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    courses: Sequence[Course],
    series: Sequence[Series],
    on: date,
) -> list[Marker]:
    rules = knowledge.table("monitoring_kinetics", KineticsRules)
    rise_rule = rules.resistance_rise
    spans = episodes(courses, rise_rule.drugs, on) if series else ()
    markers: list[Marker] = []
    triggers: list[_Trigger] = []
    if case.context.value not in rules.refractory.contexts:  # transplant: in the refractory calls
        _not_falling_on_a_low_dose(result, case, knowledge, courses, series, on)
        _not_comparable(result, series, spans, rise_rule, on)
    for s in series:
        if s.specimen not in rise_rule.specimens or not s.points:
            continue
        episode = episode_of(s.points[-1].day, spans)
        if episode is None:
            continue
        on_treatment = s.between(episode.start, on).points
        rise = confirmed_rise(on_treatment, rise_rule.rise_log10)
        if rise is None:
            continue
        cited = result.cite(rise_rule, "resistance rise threshold (confirmed rise above the nadir)")
        text = (
            f"{s.key}: {plain(rise.first.value)} on {rise.first.day}"
            + (
                f" and {plain(rise.confirmed_by.value)} on {rise.confirmed_by.day}"
                if rise.confirmed_by
                else ""
            )
            + f", {log10_text(rise.rise_log10)} log10 above the on-treatment nadir {plain(rise.nadir.value)} ({rise.nadir.day})"
        )
        if rise.confirmed_by is None:
            markers.append(Marker(s.key, rise.first.day, "rise-unconfirmed", "single rise: repeat"))
            result.schedule.append(
                ScheduleItem(
                    ScheduleEvent.VIRAL_LOAD,
                    on,
                    cited,
                    reason=f"repeat the viral load to confirm or refute a single rise ({text})",
                )
            )
            continue
        result.alerts.append(
            Alert(
                AlertCode.SUSPECTED_RESISTANCE,
                Severity.WARNING,
                f"Suspected antiviral resistance: {text}, confirmed on a repeat sample.",
                cited,
            )
        )
        markers.append(
            Marker(
                s.key, rise.confirmed_by.day, AlertCode.SUSPECTED_RESISTANCE.value, "confirmed rise"
            )
        )
        triggers.append(_Trigger(rise.first.day, "a confirmed rise above the on-treatment nadir"))
    refractory_rule = rules.refractory
    for call in refractory_calls(case, knowledge, on):
        if (
            call.baseline is not None
            and call.underdosed
            and call.latest.value >= call.baseline.value
        ):
            # a load that does not fall on a dose below target: dose and adherence first (issue 14 item 6)
            result.alerts.append(
                Alert(
                    AlertCode.CHECK_DOSING_ADHERENCE,
                    Severity.WARNING,
                    f"{call.series}: the viral load has not fallen ({plain(call.baseline.value)} at the start, "
                    f"{plain(call.latest.value)} on {call.latest.day}) and {call.reason}: check the dose per kg on "
                    "the current weight and renal function, and adherence, before any refractory call.",
                    result.cite(refractory_rule, "refractory CMV definition (Chemaly 2019)"),
                )
            )
        elif (
            call.baseline is not None
            and not call.evaluable
            and call.latest.value > call.baseline.value
        ):
            result.alerts.append(
                Alert(
                    AlertCode.EARLY_RISE_EXPECTED,
                    Severity.INFO,
                    f"{call.series}: the viral load rose from {plain(call.baseline.value)} to {plain(call.latest.value)}, "
                    f"but {call.reason}; re-check the load at day {refractory_rule.min_days} and verify the dose.",
                    result.cite(refractory_rule, "refractory CMV definition (Chemaly 2019)"),
                )
            )
        if call.code is None:
            continue
        assert call.baseline is not None and call.change_log10 is not None
        label = "Refractory" if call.code == AlertCode.REFRACTORY_CMV else "Probable refractory"
        result.alerts.append(
            Alert(
                call.code,
                Severity.WARNING,
                f"{label} CMV infection: {call.series} {plain(call.latest.value)} on {call.latest.day} vs "
                f"{plain(call.baseline.value)} at the start of therapy ({call.baseline.day}), change {log10_text(call.change_log10)} "
                f"log10 after {call.days_on_therapy} days of therapy.",
                result.cite(refractory_rule, "refractory CMV definition (Chemaly 2019)"),
            )
        )
        markers.append(Marker(call.series, call.latest.day, call.code.value, label.lower()))
        triggers.append(_Trigger(call.latest.day, f"{label.lower()} CMV infection"))
    for trigger in _breakthrough(result, case, knowledge, settings, courses, series, on):
        triggers.append(trigger)
        markers.append(
            Marker(trigger.series, trigger.day, "breakthrough", "breakthrough on prophylaxis")
        )
    if triggers:
        _genotyping(
            result, case, knowledge, courses, series, on, min(triggers, key=lambda t: t.day)
        )
    return markers


def _not_comparable(
    result: PathwayResult,
    series: Sequence[Series],
    spans: Sequence[Episode],
    rule: ResistanceRise,
    on: date,
) -> None:
    """The latest blood viral load on therapy and the load before it in another specimen or
    unit (plasma IU/mL then whole blood, or copies/mL): the trend is not judged across them, and
    that is said with what is needed (probe14 F3: nothing was said; transplant cases have T20).
    Copies/mL are never converted to IU/mL: the factor is the assay's own."""
    loads = sorted(
        (p.day, s.key) for s in series if s.specimen in rule.specimens for p in s.points if p.day <= on
    )
    if len(loads) < 2:
        return
    (before, before_key), (latest, latest_key) = loads[-2], loads[-1]
    if before_key == latest_key or episode_of(latest, spans) is None:
        return
    alert = Alert(
        AlertCode.ASSAY_MISMATCH,
        Severity.WARNING,
        f"The viral load of {latest} ({latest_key}) cannot be compared with the one of {before} "
        f"({before_key}): another specimen or unit; the trend on therapy (rise, refractory "
        "infection) was not assessed. Repeat the load in the earlier specimen and unit with "
        "the same assay; copies/mL are not converted to IU/mL without the assay's own factor.",
        rule.citations,
    )
    if alert not in result.alerts:
        result.alerts.append(alert)
    missing = Missing(
        "cmv_dna",
        f"a blood viral load in the same specimen and unit as the one of {before} ({before_key})",
    )
    if missing not in result.missing:
        result.missing.append(missing)


@fast_init
@dataclass(frozen=True)
class _Trigger:
    """Why genotyping is considered; ``gate`` replaces the (val)ganciclovir exposure rule."""

    day: date
    why: str
    series: str = ""
    gate: tuple[int, int, str] | None = None  # (days of exposure, days needed, drug)


def _breakthrough(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    courses: Sequence[Course],
    series: Sequence[Series],
    on: date,
) -> list[_Trigger]:
    """T22 for DNAemia breaking through SOT prophylaxis (see ``BreakthroughRule``)."""
    rule = knowledge.table("monitoring_kinetics", KineticsRules).breakthrough
    tx = case.transplant
    if case.context.value != "transplant" or tx is None:
        return []
    if ("hsct" if tx.organ == "hsct" else "sot") not in rule.populations:
        return []
    found: list[_Trigger] = []
    for course in courses:
        entry = course.current(on)
        if not course.active_on(on) or entry.indication not in (None, "prophylaxis"):
            continue
        if entry.indication is None and treatment_dose(case, on, knowledge, entry):
            continue  # a treatment dose given without an indication is not prophylaxis (probe9)
        rising = course.drug in rule.rising_drugs
        if not rising and course.drug not in rule.threshold_drugs:
            continue
        for s in series:
            points = tuple(p for p in s.between(course.start, on).points if p.day > course.start)
            if s.specimen not in BLOOD or not points:
                continue
            latest = points[-1]
            if rising:
                if len(points) < 2 or latest.value <= points[-2].value:
                    continue
                result.cite(rule, "breakthrough DNAemia on prophylaxis (T22)")
                found.append(
                    _Trigger(
                        latest.day,
                        f"rising breakthrough DNAemia on {course.drug} prophylaxis ({s.key} "
                        f"{plain(points[-2].value)} → {plain(latest.value)})",
                        s.key,
                    )
                )
                continue
            if settings.get(rule.threshold_setting) is None or s.unit != "IU/mL":
                continue  # the transplant pathway names the missing threshold or the mismatch
            chosen = use_setting(result, settings, knowledge, rule.threshold_setting)
            threshold = Decimal(str(chosen))
            if latest.value < threshold:
                continue
            result.cite(rule, "breakthrough DNAemia on prophylaxis (T22)")
            days = course.end_by(on) - course.start
            found.append(
                _Trigger(
                    latest.day,
                    f"breakthrough DNAemia on {course.drug} prophylaxis at or above the site's threshold "
                    f"({s.key} {plain(latest.value)} ≥ {plain(threshold)})",
                    s.key,
                    (days.days + 1, rule.threshold_min_exposure_days, course.drug),
                )
            )
    return found


def _genotyping(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    courses: Sequence[Course],
    series: Sequence[Series],
    on: date,
    trigger: _Trigger,
) -> None:
    rules = knowledge.table("monitoring_kinetics", KineticsRules)
    since, why = trigger.day, trigger.why
    given = {c.drug for c in courses if c.start <= on}
    genes, rows = rules.genes_after(given)
    cited: list[str] = list(result.cite(rules.genotyping, "genotyping exposure rule"))
    for row in rows:
        cited.extend(result.cite(row, f"genes to sequence after {row.drug}"))
    exposure = sum(e.days for e in episodes(courses, rules.genotyping.exposure_drugs, on))
    needed, exposed = rules.genotyping.min_exposure_days, "(val)ganciclovir"
    if trigger.gate is not None:
        exposure, needed, exposed = trigger.gate
    citations = tuple(dict.fromkeys(cited))  # the genotyping rule's own (a schedule item's)
    done = case.latest_genotype(on, since=since)  # by date, as antiviral-treatment reads it
    reasons = [
        f"Triggered by {why} (since {since}); {exposure} days of cumulative {exposed} exposure."
    ]
    low = _too_low_to_amplify(series, rules.genotyping.min_log10_iu_ml)
    untested: tuple[str, ...] = ()  # genes a reported genotype did not sequence
    if done is not None:
        reading = genotype_reading(done, knowledge, genes)
        outcome, untested = _read(result, reasons, cited, reading, on), reading.untested
    elif low is not None:
        outcome = Outcome.INSUFFICIENT_DATA
        reasons.append(
            f"The latest load ({low}) is below the level at which sequencing usually succeeds."
        )
        result.missing.append(Missing("cmv_dna", "a viral load high enough to sequence"))
    elif exposure >= needed:
        outcome = Outcome.RECOMMENDED
        reasons.append(
            "Send the genes listed; meanwhile check the dose per kg on the current weight and renal function, "
            "adherence and absorption, and consider drug-level monitoring."
        )
        result.schedule.append(
            ScheduleItem(ScheduleEvent.GENOTYPE, on, citations, reason=", ".join(genes))
        )
        if not any(a.code == AlertCode.SUSPECTED_RESISTANCE for a in result.alerts):
            result.alerts.append(
                Alert(
                    AlertCode.SUSPECTED_RESISTANCE,
                    Severity.WARNING,
                    f"Resistance suspected: {why} after {exposure} days of {exposed} exposure.",
                    citations,
                )
            )
    elif (reported := case.latest_genotype(on)) is not None and reported.mutations:
        # probe11 W5 (b09): a mutation already reported is not "uncommon"; it is interpreted
        reading = genotype_reading(reported, knowledge, genes)
        outcome, untested = _read(result, reasons, cited, reading, on), reading.untested
    else:
        outcome = Outcome.SPECIALIST_REVIEW
        reasons.append(
            f"Resistance is uncommon before {needed} days of {exposed} exposure: check the dose, "
            "absorption and immunosuppression first."
        )
    result.decisions.append(
        Decision(
            DecisionId.RESISTANCE_GENOTYPING,
            outcome,
            tuple(reasons),
            tuple(dict.fromkeys(cited)),
            rules=("D-4", "T22"),
            # genes to sequence only when sequencing is (or may be) asked for now
            genes=() if outcome is Outcome.NOT_INDICATED else (untested or genes),
        )
    )


def _read(
    result: PathwayResult,
    reasons: list[str],
    cited: list[str],
    reading: GenotypeReading,
    on: date,
) -> Outcome:
    """A reported genotype closes genotyping only when every gene asked for was sequenced; else
    the genes not sequenced are sent today (fixr23a), under the genotyping rule's citations."""
    reasons.append(reading.text)
    rule = tuple(dict.fromkeys(cited))  # the genotyping rule's own, before the reading's tables
    cited.extend(reading.citations)
    if not reading.untested:
        return Outcome.NOT_INDICATED
    result.schedule.append(
        ScheduleItem(ScheduleEvent.GENOTYPE, on, rule, reason=", ".join(reading.untested))
    )
    return Outcome.RECOMMENDED


def _too_low_to_amplify(series: Sequence[Series], min_log10: Decimal | None) -> str | None:
    if min_log10 is None:
        return None
    for s in series:
        if (
            s.specimen in BLOOD
            and s.unit == "IU/mL"
            and s.points
            and s.points[-1].log10 < min_log10
        ):
            return f"{plain(s.points[-1].value)} IU/mL"
    return None


# --- formatting ----------------------------------------------------------------------------------


def _not_falling_on_a_low_dose(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    courses: Sequence[Course],
    series: Sequence[Series],
    on: date,
) -> None:
    """Outside transplant: a blood viral load that has not fallen since the previous one while a
    drug in force is below its target dose says "check dose and adherence" (before any call of
    resistance; seed 001: constant dosage/weight adjustments)."""
    low: frozenset[str] | None = None  # the doses are checked only for a load that has not fallen
    spans: tuple[Episode, ...] = ()
    for s in series:
        points = s.points
        if s.specimen not in BLOOD or len(points) < 2:
            continue
        before, latest = points[-2], points[-1]
        if latest.value < before.value:
            continue
        if low is None:
            low = below_target(case, knowledge, on)
            spans = episodes(courses, low, on) if low else ()
        if not low or episode_of(latest.day, spans) is None:
            continue
        drugs = ", ".join(sorted(low))
        result.alerts.append(
            Alert(
                AlertCode.CHECK_DOSING_ADHERENCE,
                Severity.WARNING,
                f"{s.key}: the viral load has not fallen ({plain(before.value)} on {before.day}, "
                f"{plain(latest.value)} on {latest.day}) while the {drugs} dose is below its target: check the "
                "dose per kg on the current weight, and adherence, before calling it resistance.",
                result.cite(
                    knowledge.table("monitoring_kinetics", KineticsRules).resistance_rise,
                    "resistance rise threshold (confirmed rise above the nadir)",
                ),
            )
        )


@fast_init
@dataclass(frozen=True)
class GenotypeReading:
    """What a reported genotype says (``genotype_reading``): the sentence, its citations, and
    the genes it still lacks among those the genotyping rule asks for (``untested``)."""

    text: str
    citations: tuple[str, ...]
    untested: tuple[str, ...] = ()


def genotype_reading(
    genotype: Genotype, knowledge: Knowledge, needed: Sequence[str] = ()
) -> GenotypeReading:
    """What a reported genotype already says (debt23): its mutations and the resistance call of
    each drug from the resistance tables (``interpret_mutations``, the same reading as the
    ``antiviral-treatment`` decision's), with their citations; the genotyping decision refers to
    this result, not to a report still to be read. A genotype that cannot be interpreted is said
    so, with the reason. A gene of ``needed`` (the rule's ``genes_after``: UL97 and UL54 after
    ganciclovir, Kotton 2018) that was not sequenced is named (fixr23a): the drugs it decides are
    "not assessed", so the drug is not chosen on this reading alone and sequencing stays open."""
    found = ", ".join(genotype.mutations) if genotype.mutations else "no mutation"
    genes = f" ({', '.join(genotype.genes_tested)})" if genotype.genes_tested else ""
    head = f"A genotype was reported on {genotype.date}{genes}: {found}"
    untested = tuple(g for g in needed if g not in genotype.genes_tested)
    try:
        report = interpret_mutations(
            list(genotype.mutations), list(genotype.genes_tested) or None, knowledge
        )
    except CmvcdsError as error:
        return GenotypeReading(
            f"{head}; it cannot be interpreted ({error}): ask the laboratory.", (), untested
        )
    calls = "; ".join(
        f"{call.drug}: {call.level.wording.partition(':')[0].lower()}"
        + (" (flagged: see the resistance report)" if call.flags else "")
        for call in report.drugs
    )
    cited = tuple(dict.fromkeys(c for call in report.drugs for c in call.citations))
    if untested:
        return GenotypeReading(
            f"{head}. Its reading: {calls}. "
            + (
                "The genes tested were not stated"
                if not genotype.genes_tested
                else f"{', '.join(untested)} not sequenced"
            )
            + f" (the genotyping rule asks for {', '.join(needed)} after this exposure; a drug "
            f"they decide is not assessed): send {', '.join(untested)} before choosing the drug "
            "on this reading.",
            cited,
            untested,
        )
    return GenotypeReading(
        f"{head}. Its reading: {calls}. Choose the drug on this reading; no new genotype is "
        "needed for it.",
        cited,
    )
