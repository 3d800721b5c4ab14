"""What the immune-status pathways share: their tables, a decision builder, regimens, monitoring.

Every regimen comes from the dosing engine (``regimen``); every monitoring date from the
``regimen_monitoring`` table (``schedule_monitoring``) — planned here only for a course not yet in
``therapy``, the monitoring pathway planning the courses that are (``in_therapy``); every setting through ``use_setting`` so
that it is shown in the output and, when unset, named as missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

from cmvcds.domain.case import Case, Observation, TherapyCourse
from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.results import (
    Alert,
    Cited,
    Decision,
    Missing,
    PathwayResult,
    Regimen,
    schedule_items,
)
from cmvcds.domain.settings import REFERENCE_PROFILE, SiteSettings, setting_specs, use_setting
from cmvcds.domain.vocabulary import (
    AlertCode,
    DecisionId,
    Indication,
    Outcome,
    ScheduleEvent,
    Severity,
)
from cmvcds.engine.dosing.intolerance import intolerance_names, not_tolerated
from cmvcds.engine.dosing.patient import dose_patient_from_case
from cmvcds.engine.dosing.recommend import dosing_policy, drugs_available, recommend_dose
from cmvcds.engine.dosing.result import DoseResult
from cmvcds.engine.monitoring.courses import recurring_days
from cmvcds.engine.monitoring.dose import treatment_dose
from cmvcds.engine.monitoring.schedule import planned_days
from cmvcds.errors import CmvcdsError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel
from cmvcds.knowledge.schemas.transplant import (
    HivRules,
    HsctPrevention,
    ImmuneRules,
    MonitoringItem,
    RegimenMonitoring,
    SotPrevention,
    TreatmentRules,
    Value,
)

__all__ = [
    "BLOOD_SPECIMENS",
    "Plan",
    "Tables",
    "Therapy",
    "add_alert",
    "age_years",
    "beside_unclear",
    "cmv_antivirals",
    "current_course",
    "give",
    "in_place_reason",
    "in_therapy",
    "is_below_lloq",
    "levels_alert_given",
    "other_prevention",
    "phase",
    "plasma_loads",
    "refusal",
    "refuse_minor",
    "refuse_missing",
    "regimen",
    "schedule_monitoring",
    "tables",
    "treatment_course",
    "treatment_dose",
    "unclear_course",
    "unclear_reason",
]

_MESSAGE = attrgetter("message")

#: Specimens whose CMV DNA is a blood viral load (the pre-emptive and clearance tests).
BLOOD_SPECIMENS = ("plasma", "whole_blood")


@dataclass(frozen=True)
class Tables:
    sot: SotPrevention
    hsct: HsctPrevention
    treatment: TreatmentRules
    hiv: HivRules
    immune: ImmuneRules
    monitoring: RegimenMonitoring


def tables(knowledge: Knowledge) -> Tables:
    """The rule tables of the immune-status pathways, checked and gathered once per pack
    (``Knowledge.derived``; it was six look-ups and a new object per call, issue 20)."""
    return knowledge.derived(_tables)


def _tables(knowledge: Knowledge) -> Tables:
    return Tables(
        sot=knowledge.table("sot_prevention", SotPrevention),
        hsct=knowledge.table("hsct_prevention", HsctPrevention),
        treatment=knowledge.table("cmv_treatment", TreatmentRules),
        hiv=knowledge.table("hiv_cmv", HivRules),
        immune=knowledge.table("immune_cmv", ImmuneRules),
        monitoring=knowledge.table("regimen_monitoring", RegimenMonitoring),
    )


@dataclass
class Plan:
    """One decision being built: its reasons, citations, rules and the settings it used."""

    result: PathwayResult
    knowledge: Knowledge
    settings: SiteSettings
    id: DecisionId
    reasons: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    settings_used: list[str] = field(default_factory=list)
    genes: tuple[str, ...] = ()

    def cite(self, fact: Cited, what: str) -> None:
        for source in self.result.cite(fact, what):
            if source not in self.citations:
                self.citations.append(source)

    def because(self, reason: str, *facts: tuple[Cited, str]) -> None:
        self.reasons.append(reason)
        for fact, what in facts:
            self.cite(fact, what)

    def rule(self, *rule_ids: str) -> None:
        self.rules.extend(r for r in rule_ids if r not in self.rules)

    def setting(self, name: str) -> Any | None:
        """The value of ``name`` (the site's, else the reference profile's; recorded), or None
        with a ``missing`` item naming it.

        A value from the reference profile is cited and stated as a reason with the alternatives
        the site may choose; an unset one cites the setting's own sources (the guideline that
        leaves it to the site), so the decision still cites what it applied.
        """
        first = name not in self.settings_used
        if first:
            self.settings_used.append(name)
        value = use_setting(self.result, self.settings, self.knowledge, name)
        if value is None:
            self.cite_setting(name)
        elif first and self.settings.origin_of(name) == REFERENCE_PROFILE:
            self._from_reference(name, value)
        return value

    def _from_reference(self, name: str, value: Any) -> None:
        use = self.result.settings_origin[name]
        spec = setting_specs(self.knowledge)[name]
        others = [c for c in spec.choices if c != value]
        choice = f"; {' or '.join(others)}: site choice" if others else ""
        unit = f" {spec.unit}" if spec.unit and spec.type != "choice" else ""
        self.reasons.append(
            f"{name} = {value}{unit} from the reference profile ({use.basis}){choice}"
        )
        for source in use.citations:
            if source not in self.citations:
                self.citations.append(source)

    def optional_setting(self, name: str) -> Any | None:
        """A setting whose absence only switches a criterion off (recorded when set)."""
        value = self.settings.get(name)
        if value is not None:
            use_setting(self.result, self.settings, self.knowledge, name)
            if name not in self.settings_used:
                self.settings_used.append(name)
        return value

    def cite_setting(self, name: str) -> None:
        spec = setting_specs(self.knowledge)[name]
        self.cite(spec, f"setting {name}")

    def done(self, outcome: Outcome) -> Decision:
        decision = Decision(
            self.id,
            outcome,
            tuple(self.reasons),
            tuple(self.citations),
            tuple(self.rules),
            self.genes,
            tuple(self.settings_used),
            tuple(
                n
                for n in self.settings_used
                if (use := self.result.settings_origin.get(n)) is not None
                and use.origin == REFERENCE_PROFILE
            ),
        )
        self.result.decisions.append(decision)
        return decision


def refuse_missing(
    plans: Iterable[Plan], missing: list[Missing], *needs: tuple[Cited, str]
) -> bool:
    """Close every plan as ``insufficient_data`` when required input is missing; True if so.

    ``needs`` are the rules that need the missing items: each decision cites them.
    """
    if not missing:
        return False
    for plan in plans:
        plan.result.missing.extend(m for m in missing if m not in plan.result.missing)
        plan.because("required input missing: " + ", ".join(m.item for m in missing), *needs)
        plan.done(Outcome.INSUFFICIENT_DATA)
    return True


def refuse_minor(plans: Iterable[Plan], age: Decimal, adult: Value, rules: str) -> bool:
    """Close every plan as ``specialist_review`` (outside the evidence) under the adult age; True if so."""
    if age >= adult.value:
        return False
    for plan in plans:
        add_alert(
            plan.result,
            AlertCode.OUTSIDE_EVIDENCE_BASE,
            Severity.WARNING,
            f"Age {age} years: the {rules} rules are for adults (≥ {adult.value} years).",
            plan.result.cite(adult, f"adult age for the {rules} rules"),
        )
        plan.because(
            f"age {age} years: paediatric strategy and dosing differ", (adult, "adult age")
        )
        plan.done(Outcome.SPECIALIST_REVIEW)
    return True


def add_alert(
    result: PathwayResult,
    code: AlertCode,
    severity: Severity,
    message: str,
    citations: Iterable[str] = (),
) -> None:
    alert = Alert(code, severity, message, tuple(citations))
    if is_new(alert, result.alerts):
        result.alerts.append(alert)


def is_new(alert: Alert, alerts: list[Alert]) -> bool:
    """Whether ``alerts`` lacks ``alert``: the messages are compared first, in C (an equal alert
    has the same message), before the dataclass comparisons (issue 20)."""
    return alert.message not in map(_MESSAGE, alerts) or alert not in alerts


def levels_alert_given(result: PathwayResult) -> bool:
    """Has the dosing engine already said that letermovir raises immunosuppressant levels?"""
    return any(
        a.code is AlertCode.DRUG_INTERACTION and a.message.startswith("Letermovir raises")
        for a in result.alerts
    )


def age_years(case: Case, on: date) -> Decimal | None:
    return case.patient.age_on(on)


@fast_init
@dataclass(frozen=True)
class Therapy:
    """A course from the case's ``therapy`` list, as the rules read it."""

    drug: str
    start: date
    stop: date | None
    route: str | None
    indication: str | None


def current_course(case: Case, on: date, drugs: Iterable[str]) -> Therapy | None:
    """The latest course of one of ``drugs`` running on ``on`` (no stop, or stop on/after ``on``).

    Consecutive courses of the treatment drugs in the same phase (an IV → oral switch) count from
    the first start; prophylaxis before a treatment dose does not.
    """
    wanted = tuple(drugs)
    running = [
        t
        for t in case.therapy
        if t.drug in wanted and t.start <= on and (t.stop is None or t.stop >= on)
    ]
    if not running:
        return None
    course = max(running, key=lambda t: t.start)
    start = course.start
    for earlier in sorted(case.therapy, key=lambda t: t.start, reverse=True):
        if (
            earlier.drug in wanted
            and phase(earlier.indication) == phase(course.indication)
            and earlier.stop is not None
            and earlier.start < start
            and (start - earlier.stop).days <= 1
        ):
            start = earlier.start
    return Therapy(course.drug, start, course.stop, course.route, course.indication)


def treatment_course(case: Case, on: date, knowledge: Knowledge) -> Therapy | None:
    """The latest course of a treatment drug running on ``on`` that treats CMV, or None.

    How a running course is read (probe9 #3: a valganciclovir 900 mg q12h induction course was
    re-read as prophylaxis, halved and dated from its own start): by its ``indication`` when
    given (induction, pre-emptive or refractory therapy: treatment; prophylaxis or maintenance:
    not); with no indication, by its dose: a drug the labels never give as prophylaxis, or a daily
    dose above the dosing engine's prophylaxis dose for this patient today, is a treatment dose.
    A course whose dose cannot be compared (no dose given, no prophylaxis dose today) is not
    read as treatment here: the monitoring pathway asks for its indication.
    """
    drugs = tables(knowledge).treatment.treatment_drugs.values
    running = [
        e
        for e in case.therapy
        if e.drug in drugs and e.start <= on and (e.stop is None or e.stop >= on)
    ]
    for entry in sorted(running, key=attrgetter("start"), reverse=True):
        if entry.indication is None:
            treating = treatment_dose(case, on, knowledge, entry) is True
        else:
            treating = phase(entry.indication) == "treatment"
        if treating:
            return Therapy(entry.drug, entry.start, entry.stop, entry.route, entry.indication)
    return None


def unclear_course(case: Case, on: date, knowledge: Knowledge) -> TherapyCourse | None:
    """The latest course of a treatment drug running on ``on`` without an indication whose dose
    reads neither as treatment nor as prophylaxis (``treatment_dose`` is None: ganciclovir
    5 mg/kg every 12 h is the label's treatment dose and its first prophylaxis phase), or None.
    Prevention is not closed on such a reading (review9b): its decision says the indication is
    needed."""
    drugs = tables(knowledge).treatment.treatment_drugs.values
    running = [
        e
        for e in case.therapy
        if e.drug in drugs
        and e.indication is None
        and e.start <= on
        and (e.stop is None or e.stop >= on)
    ]
    for entry in sorted(running, key=attrgetter("start"), reverse=True):
        if treatment_dose(case, on, knowledge, entry) is None:
            return entry
    return None


def unclear_reason(plan: Plan, entry: TherapyCourse) -> None:
    """The prevention decision's line for ``unclear_course``: a drug the label gives no
    prophylaxis dose (foscarnet, cidofovir, maribavir) is never said to be at one (review11 S2)."""
    no_prophylaxis = _no_prophylaxis_row(plan.knowledge, entry.drug)
    if no_prophylaxis is not None:
        plan.cite(no_prophylaxis, f"{entry.drug}: no labelled prophylaxis dose")
        plan.because(
            f"{entry.drug} running since {entry.start} without an indication; the label gives "
            f"{entry.drug} no prophylaxis dose: record its indication; if it treats CMV "
            "infection, prevention stops while treatment runs"
        )
        return
    plan.because(
        f"{entry.drug} running since {entry.start} without an indication, at a dose that is "
        "both a treatment and a prophylaxis dose (or not comparable): record its indication; "
        "if it treats CMV infection, prevention stops while treatment runs"
    )


def _no_prophylaxis_row(knowledge: Knowledge, drug: str) -> Cited | None:
    """The label fact saying ``drug`` has no prophylaxis dose (FOSCAVIR's ``not_indicated`` row,
    else the label itself when no row names prophylaxis: maribavir, cidofovir), or None when a
    prophylaxis row gives a dose at some renal band."""
    label = knowledge.tables.get(f"drug_{drug}")
    if not isinstance(label, DrugLabel):
        return None
    rows = [r for r in label.regimens if Indication.PROPHYLAXIS.value in r.indications]
    if any(r.outcome is None and any(b.refuse is None for b in r.bands) for r in rows):
        return None
    return rows[0] if rows else label


def cmv_antivirals(knowledge: Knowledge) -> tuple[str, ...]:
    """The drugs a ``therapy`` course of which is a CMV antiviral course (the case format's
    ``therapy`` holds CMV antiviral courses only): every drug the pack doses, valacyclovir's CMV
    prophylaxis included. Prevention never proposes a second one beside a running course."""
    return drugs_available(knowledge)


def beside_unclear(
    case: Case, on: date, t: Tables, drug: str, prophylaxis: Plan, preemptive: Plan | None
) -> bool:
    """Close both prevention decisions when ``drug`` (the prophylaxis drug to propose) is not
    running and another CMV antiviral runs without an indication at a dose that may treat CMV
    infection (``unclear_course``; a drug with no labelled prophylaxis dose is never read as
    prophylaxis); True if so (review11 S2: foscarnet 50 mg/kg every 12 h and IV ganciclovir
    5 mg/kg every 12 h, DNAemia 90,000 IU/mL, were given valganciclovir prophylaxis "start now"
    beside them and "no routine viral-load monitoring"). No second antiviral is proposed beside
    a course that may be treatment; both decisions are ``insufficient_data`` until its
    indication is recorded (the monitoring pathway asks ``therapy:DRUG.indication``);
    ``preemptive`` None leaves that decision to the caller (HSCT: weekly PCR goes on)."""
    entry = unclear_course(case, on, prophylaxis.knowledge)
    if entry is None or entry.drug == drug or current_course(case, on, (drug,)) is not None:
        return False
    unclear_reason(prophylaxis, entry)
    fact = (t.treatment.treatment_drugs, "treatment of CMV infection replaces prevention")
    prophylaxis.rule("T20")
    prophylaxis.because(
        f"no {drug} prophylaxis beside the {entry.drug} course: it may treat CMV infection, and "
        "no second CMV antiviral starts beside a treatment",
        fact,
    )
    prophylaxis.done(Outcome.INSUFFICIENT_DATA)
    if preemptive is None:
        return True
    preemptive.because(
        f"{entry.drug} running since {entry.start} without an indication: its indication "
        "decides whether the viral loads are followed as treatment (antiviral-treatment) or as "
        "breakthrough on prophylaxis; record it",
        fact,
    )
    preemptive.done(Outcome.INSUFFICIENT_DATA)
    return True


def other_prevention(
    case: Case, on: date, knowledge: Knowledge, drug: str, *, beside: bool = False
) -> Therapy | None:
    """The latest running course of a CMV antiviral other than ``drug`` that is not treatment
    (a recorded prophylaxis or maintenance course, or a prophylaxis dose without an indication)
    while ``drug`` itself is not running: a proposal of ``drug`` is then made in its place,
    never beside it (review11 S2: valganciclovir "start now" beside IV ganciclovir or
    letermovir prophylaxis). Courses read as treatment or unclear are ``under_treatment``'s and
    ``beside_unclear``'s. ``beside``: such a course while ``drug`` runs too (debt23: HSCT
    letermovir and valganciclovir prophylaxis both running)."""
    if (current_course(case, on, (drug,)) is not None) is not beside:
        return None
    running = [
        e
        for e in case.therapy
        if e.drug in cmv_antivirals(knowledge)
        and e.drug != drug
        and e.start <= on
        and (e.stop is None or e.stop >= on)
    ]
    for entry in sorted(running, key=attrgetter("start"), reverse=True):
        if entry.indication is None:
            treating = tables(knowledge).treatment.treatment_drugs.values
            if entry.drug in treating and treatment_dose(case, on, knowledge, entry) is not False:
                continue  # treatment or unclear: ``under_treatment``/``beside_unclear``'s
        elif phase(entry.indication) == "treatment":
            continue
        return Therapy(entry.drug, entry.start, entry.stop, entry.route, entry.indication)
    return None


def in_place_reason(plan: Plan, course: Therapy, drug: str) -> None:
    """The prevention decision's line for ``other_prevention``."""
    plan.because(
        f"{course.drug} ({course.indication or 'prophylaxis dose, no indication'}) running since "
        f"{course.start}: give {drug} in its place, never beside it (stop {course.drug} when "
        f"{drug} starts), or keep {course.drug} and do not start {drug}"
    )


def plasma_loads(case: Case, on: date) -> tuple[Observation, ...]:
    """Blood CMV DNA results on or before ``on``, oldest first."""
    return tuple(
        o for o in case.results("cmv_dna") if o.specimen in BLOOD_SPECIMENS and o.date <= on
    )


def is_below_lloq(observation: Observation) -> bool:
    """Not detected, detected below the LLOQ, or reported only as "< LLOQ" (``below_lloq``:
    not detected or below the LLOQ — a laboratory's "< 35 IU/mL")."""
    return observation.result in ("not_detected", "detected_below_lloq", "below_lloq")


def label_dose(
    case: Case,
    on: date,
    knowledge: Knowledge,
    drug: str,
    indication: Indication,
    regimen_name: str | None,
    route: str | None,
    regions: tuple[str, ...],
) -> DoseResult:
    """The dosing engine's answer for ``drug``: ``regions`` tried in order (the US label, then
    e.g. the EU SmPC where the US label has no row for this use), the first that recommends or
    excludes it, else the last. Raises ``CmvcdsError`` for a drug or regimen the dosing tables
    do not hold. One reading for ``regimen`` and ``refusal`` (the same answer, remembered)."""
    if not regions:
        raise ValueError("label_dose needs at least one region")
    patient = dose_patient_from_case(case, on)
    for region in regions:
        dose = recommend_dose(
            patient, drug, indication, knowledge, regimen=regimen_name, route=route, region=region
        )
        if dose.outcome is Outcome.RECOMMENDED or dose.outcome is Outcome.EXCLUDED:
            break
    return dose


def regimen(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    on: date,
    drug: str,
    indication: Indication,
    *,
    start: date,
    stop: date | None = None,
    stop_rule: str | None = None,
    population: str,
    regimen_name: str | None = None,
    route: str | None = None,
    schedule: bool = True,
    regions: tuple[str, ...] = ("us",),
) -> tuple[Outcome, Regimen | None]:
    """The dosing engine's regimen for ``drug``; added (with its monitoring) when recommended.

    ``regions`` are tried in order (the US label, then e.g. the EU SmPC where the US label has no
    row for this use); only the alerts of the answer used are kept.
    """
    try:
        dose = label_dose(case, on, knowledge, drug, indication, regimen_name, route, regions)
    except CmvcdsError as error:  # a drug or regimen the dosing tables do not hold
        result.missing.append(
            Missing(f"dose:{drug}", f"no {indication.value} dose of {drug}: {error}")
        )
        return Outcome.INSUFFICIENT_DATA, None
    for missing in dose.missing:
        if missing not in result.missing:
            result.missing.append(missing)
    for alert in dose.alerts:
        if is_new(alert, result.alerts):
            result.alerts.append(alert)
    if dose.outcome is not Outcome.RECOMMENDED:
        return dose.outcome, None
    chosen = dose.as_regimen(start=start, stop=stop, stop_rule=stop_rule)
    result.regimens.append(chosen)
    if dose.region != regions[0]:
        result.findings.setdefault("dose_label_region", {})[drug] = dose.region
    if schedule and not in_therapy(case, on, drug, indication):
        schedule_monitoring(result, knowledge, drug, indication.value, population, start, stop, on)
    return Outcome.RECOMMENDED, chosen


#: Phases of a course: a treatment-dose course is the same course whether it is called induction,
#: pre-emptive or refractory therapy; prophylaxis → treatment dose, or induction → maintenance, is a
#: new course.
_PHASE = {"induction": "treatment", "preemptive": "treatment", "refractory": "treatment"}


def phase(indication: str | None) -> str | None:
    """``treatment`` for induction, pre-emptive and refractory therapy; else the indication."""
    return None if indication is None else _PHASE.get(indication, indication)


def in_therapy(case: Case, on: date, drug: str, indication: Indication) -> bool:
    """Is the recommended course already running in ``case.therapy``?

    Running = the same drug given on ``on`` in the same phase (or with no indication given). Such
    a course's monitoring belongs to the monitoring pathway's calendar (one owner, no duplicate
    checks on nearby dates); a pathway plans the calendar of a course not yet started.
    """
    wanted = phase(indication.value)
    return any(
        t.drug == drug
        and t.start <= on
        and (t.stop is None or t.stop >= on)
        and (t.indication is None or phase(t.indication) == wanted)
        for t in case.therapy
    )


def refusal(
    case: Case,
    on: date,
    knowledge: Knowledge,
    drug: str,
    indication: Indication,
    *,
    route: str | None = None,
    regimen_name: str | None = None,
    regions: tuple[str, ...] = ("us",),
) -> str:
    """What a decision says after "the dosing engine gives no dose" (review11 M4: "see its
    alerts" was said where the dosing engine raised none): ``see its alerts`` when its answer
    (the same as ``regimen``'s, remembered) holds a warning or critical alert, else the items it
    needs, else its reason itself ("Valganciclovir tablets are not recommended on hemodialysis;
    use IV ganciclovir …")."""
    try:
        dose = label_dose(case, on, knowledge, drug, indication, regimen_name, route, regions)
    except CmvcdsError:
        return "see its alerts"
    if any(
        a.severity is not Severity.INFO and a.code is not AlertCode.UNVERIFIED_FACT
        for a in dose.alerts
    ):
        return "see its alerts"
    if dose.missing:
        return f"it needs {', '.join(m.item for m in dose.missing)}"
    why = next((r for r in reversed(dose.reasons) if r), "")
    return f"its reason: {why}" if why else "see its reasons"


def give(
    plan: Plan,
    case: Case,
    on: date,
    drug: str,
    indication: Indication,
    *,
    start: date,
    stop_rule: str,
    population: str,
    stop: date | None = None,
    route: str | None = None,
    regimen_name: str | None = None,
) -> Outcome:
    """``regimen`` for a plan: RECOMMENDED with the regimen, else SPECIALIST_REVIEW saying why."""
    outcome, chosen = regimen(
        plan.result,
        case,
        plan.knowledge,
        on,
        drug,
        indication,
        start=start,
        stop=stop,
        stop_rule=stop_rule,
        population=population,
        route=route,
        regimen_name=regimen_name,
    )
    if chosen is None:
        if not_given(plan, case, drug):
            return Outcome.SPECIALIST_REVIEW
        why = refusal(
            case, on, plan.knowledge, drug, indication, route=route, regimen_name=regimen_name
        )
        plan.because(
            f"the dosing engine gives no {indication.value} dose of {drug} for this patient "
            f"({outcome.value}); {why}"
        )
        return Outcome.SPECIALIST_REVIEW
    return Outcome.RECOMMENDED


def not_given(plan: Plan, case: Case, drug: str, what: str | None = None) -> bool:
    """Whether a recorded intolerance bars ``drug`` (the dosing engine then gives no dose): the
    plan then says so, naming it, with the dosing engine's ``drug-intolerance`` alert (raised
    here too for a drug it does not dose, e.g. an intravitreal injection; probe9 finding 1)."""
    barring = not_tolerated(plan.knowledge, case.patient.intolerances, drug)
    if not barring:
        return False
    policy = plan.knowledge.derived(dosing_policy)
    for intolerance in barring:
        fact: Cited = intolerance.row if intolerance.row is not None else policy
        plan.cite(fact, f"{drug}: recorded intolerance")
        add_alert(
            plan.result,
            AlertCode.DRUG_INTOLERANCE,
            Severity.CRITICAL,
            intolerance.message(policy.intolerance),
            fact.citations,
        )
    plan.because(
        f"{what or drug} is not given: recorded intolerance of {intolerance_names(barring)}; "
        f"{policy.intolerance} (see the drug-intolerance alert)"
    )
    return True


def schedule_monitoring(
    result: PathwayResult,
    knowledge: Knowledge,
    drug: str,
    indication: str,
    population: str,
    start: date,
    stop: date | None,
    on: date,
) -> None:
    """One schedule item per planned check of ``drug`` from ``start`` (or ``on``) to ``stop``."""
    monitoring = tables(knowledge).monitoring
    last = stop or max(start, on) + timedelta(days=int(monitoring.open_course_horizon_days.value))
    if stop is None:
        result.cite(monitoring.open_course_horizon_days, "monitoring horizon of an open course")
    for check in knowledge.derived(_MonitoringChecks).of(drug, indication, population):
        item = check.item
        citations = result.cite(item, check.cited_as)
        taken = planned_days(result.schedule, check.event, citations, check.reason)
        result.schedule += schedule_items(
            check.event,
            [day for day in recurring_days(start, item.every_days, on, last) if day not in taken],
            citations,
            check.reason,
        )


@dataclass(frozen=True)
class _Check:
    """A ``regimen_monitoring`` item as the calendar of one drug prints it: its event, the reason
    of its schedule items and the name of its citation (the same for every patient)."""

    item: MonitoringItem
    event: ScheduleEvent
    reason: str
    cited_as: str


class _MonitoringChecks:
    """The ``_Check``s of each (drug, indication, population) of a pack's ``regimen_monitoring``,
    worked out on first use and kept with the pack (``Knowledge.derived``: every recommended
    course redid the search, the event look-up and the texts, issue 20)."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._monitoring = tables(knowledge).monitoring
        self._checks: dict[tuple[str, str, str], tuple[_Check, ...]] = {}

    def of(self, drug: str, indication: str, population: str) -> tuple[_Check, ...]:
        key = (drug, indication, population)
        checks = self._checks.get(key)
        if checks is None:
            checks = self._checks[key] = tuple(
                _Check(
                    item,
                    ScheduleEvent(item.event),
                    f"{drug}: {item.reason}",
                    f"{item.event} every {item.every_days} days on {drug}",
                )
                for item in self._monitoring.items(drug, indication, population)
            )
        return checks
