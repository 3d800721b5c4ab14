"""The pregnancy pathway: ``evaluate(case, knowledge, on, settings) -> PathwayResult``.

It dates the pregnancy, classifies the maternal infection, decides ``valacyclovir-prevention``
(with regimen, amniocentesis and stop dates, monitoring) and, once an amniocentesis is known,
``valacyclovir-fetal-treatment``. Every decision names the rules it applied (A1–A9, I-1 …; see
``pregnancy/rules.yaml``) and cites the rows it used.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import chain
from typing import Any

from cmvcds.domain.case import Case
from cmvcds.domain.results import Alert, Decision, Missing, PathwayResult, ScheduleItem
from cmvcds.domain.settings import SiteSettings, use_setting
from cmvcds.domain.vocabulary import (
    AlertCode,
    Context,
    DecisionId,
    Indication,
    Outcome,
    ScheduleEvent,
    Severity,
)
from cmvcds.engine.dosing import dose_patient_from_case
from cmvcds.engine.pregnancy.amniocentesis import Amniocentesis, amniocenteses, plan_amniocentesis
from cmvcds.engine.pregnancy.dating import CONTRADICTION_NEEDED, PregnancyDating, date_pregnancy
from cmvcds.engine.pregnancy.exclusions import Exclusions, check_exclusions
from cmvcds.engine.pregnancy.fetal import (
    FetalSigns,
    fetal_outcome,
    infected_fetuses,
    signs_before_amniocentesis,
    signs_of_fetus,
)
from cmvcds.engine.pregnancy.infection import (
    CRITERIA,
    MaternalInfection,
    PeriodBounds,
    classify_infection,
    timing_label,
)
from cmvcds.engine.pregnancy.monitoring import monitoring_schedule
from cmvcds.engine.pregnancy.prevention import (
    Course,
    course_of,
    exclusion_outcome,
    indication_for_prevention,
)
from cmvcds.engine.pregnancy.regimen import course_start, dose_in_force, valacyclovir_regimen
from cmvcds.engine.pregnancy.tables import PregnancyTables, pregnancy_tables
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import PlausibilityLimits

__all__ = ["evaluate"]

_PERI_FROM = "pregnancy.periconceptional_from_day"
_PERI_TO = "pregnancy.periconceptional_to_day"


class _Evaluation:
    """One evaluation: the inputs, the tables, and the result being built."""

    def __init__(self, case: Case, knowledge: Knowledge, on: date, settings: SiteSettings) -> None:
        self.case = case
        self.knowledge = knowledge
        self.on = on
        self.settings = settings
        self.t: PregnancyTables = pregnancy_tables(knowledge)
        self.result = PathwayResult()
        self._exclusions: Exclusions | None = None
        self._lmp: date | None = None

    # -- shared pieces ---------------------------------------------------------------------
    def exclusions(self) -> Exclusions:
        if self._exclusions is None:
            self._exclusions = check_exclusions(
                self.case, self.on, self.t.protocol, self.knowledge, self.result, self._lmp
            )
            if self._exclusions.findings:
                self.result.findings["renal"] = dict(self._exclusions.findings)
            if self._exclusions.renal:
                self.result.alerts.append(
                    Alert(
                        AlertCode.RENAL_EXCLUSION,
                        Severity.CRITICAL,
                        "Renal exclusion criterion of the AIFA protocol: "
                        + " ".join(self._exclusions.excluded),
                        self._exclusions.citations,
                    )
                )
        return self._exclusions

    def periconceptional(self) -> tuple[PeriodBounds, bool]:
        """The periconceptional window: the site's setting when chosen, else the default (I-6)."""
        built = self.t.periconceptional  # the default, built once per pack
        if (
            built is not None
            and self.settings.get(_PERI_FROM) is None
            and self.settings.get(_PERI_TO) is None
        ):
            return built, False
        default = self.t.timing.periconceptional
        days = [default.from_day, default.to_day]
        chosen = 0
        for i, name in enumerate((_PERI_FROM, _PERI_TO)):
            if self.settings.get(name) is not None:
                value: Any = use_setting(self.result, self.settings, self.knowledge, name)
                days[i] = int(value)
                chosen += 1
        assert days[0] is not None and days[1] is not None
        return PeriodBounds(days[0], days[1]), chosen == 2

    # -- the evaluation --------------------------------------------------------------------
    def run(self) -> PathwayResult:
        case, result = self.case, self.result
        pregnancy = case.pregnancy
        if pregnancy is None:
            self._undecidable(
                "the case has no pregnancy section",
                Missing(
                    "pregnancy",
                    "give the pregnancy (lmp, edd or a dating scan): the AIFA 648/96 assessment of the "
                    "fetal results and the maternal infection needs a dated pregnancy",
                ),
            )
            return result
        dating = date_pregnancy(pregnancy, self.t.dating, result)
        if dating is None and any(m.item == CONTRADICTION_NEEDED for m in result.missing):
            # probe13 S4: the datings contradict each other; what does not depend on the dates
            # is still given (the renal and age exclusions, with the stricter, later LMP for I-11)
            self._lmp = max(lmp for lmp, _ in pregnancy.implied_lmps())
            self._undated(pregnancy)
            amnios = amniocenteses(case, self.on)
            if amnios:
                self._fetal_treatment(None, amnios)
            return result
        if dating is None:
            self._undecidable(
                "the pregnancy is not dated",
                Missing(
                    "pregnancy.lmp",
                    "give lmp, edd or dating {date, gestational_age}: every protocol date depends on it",
                ),
            )
            return result
        self._lmp = dating.lmp
        self._patient_inputs()
        result.findings["gestational_age"] = dating.ga(self.on)
        result.findings["dating"] = {"basis": dating.basis, "lmp": dating.lmp, "edd": dating.edd}
        result.findings["key_dates"] = {ga: dating.date_of(days) for ga, days in self.t.landmarks}
        if pregnancy.fetuses > 1:
            result.findings["fetuses"] = pregnancy.fetuses
        peri, site_window = self.periconceptional()
        window_start = dating.date_of(peri.from_day)
        infection = classify_infection(case, self.on, self.t.protocol, window_start)
        result.alerts.extend(infection.alerts)
        result.findings["maternal_infection"] = self._infection_finding(
            infection, dating, peri, site_window
        )
        amnios = amniocenteses(case, self.on)
        untagged = [a for a in amnios if a.fetus is None]
        if pregnancy.fetuses > 1 and untagged:
            result.missing.append(
                Missing(
                    "cmv_dna (amniotic fluid).fetus",
                    f"multiple pregnancy ({pregnancy.fetuses} fetuses): say which fetus (sac) each amniotic-fluid "
                    f"result belongs to (fetus: 1 … {pregnancy.fetuses}): "
                    + "; ".join(a.describe() for a in untagged)
                    + " (I-10)",
                )
            )
        earliest = plan_amniocentesis(
            infection, pregnancy, amnios, dating, self.t.protocol, window_start, result
        )
        self._prevention(infection, dating, amnios, earliest, window_start)
        if amnios:
            self._fetal_treatment(dating, amnios)
        else:
            shown = signs_before_amniocentesis(
                case, self.on, pregnancy.fetuses, self.t.signs, self.t.protocol, result
            )
            if shown:
                result.findings["fetal_signs_before_amniocentesis"] = shown
        return result

    def _undated(self, pregnancy: Any) -> None:
        """fixr23b: the datings contradict each other. The prevention decision needs the dates,
        but an exclusion that needs none (renal, dialysis, age; A7) still excludes, and still stops
        a running course; the dating is named as also needed. What the exclusions miss is asked
        for with the dating."""
        self._patient_inputs()
        if pregnancy.fetuses > 1:
            self.result.findings["fetuses"] = pregnancy.fetuses
        self._undated_infection(pregnancy)
        undated = (
            "No decision: the datings given contradict each other beyond the ACOG "
            "redating thresholds, and every protocol date (onset before 24+0, "
            "amniocentesis from 20+1, stop at 26+0) depends on the dating."
        )
        citations = _union(
            self.t.protocol.prevention_onset_before.citations, self.t.dating.citations
        )
        exclusions = self.exclusions()
        outcome, why = exclusion_outcome(exclusions)
        citations = _union(citations, exclusions.citations)
        rules = ("A1", "A2", "A7", "I-4", "I-11")
        if outcome is Outcome.EXCLUDED:
            self._stop_running(why, citations)
            also = (
                "The dating is also needed (the datings given contradict each other beyond the "
                "ACOG redating thresholds) for every other protocol date, but no date changes "
                "this exclusion."
            )
            self._decide(
                DecisionId.VALACYCLOVIR_PREVENTION, outcome, (*why, also), citations, rules
            )
            return
        if outcome is Outcome.INSUFFICIENT_DATA:
            self.result.missing.extend(
                m for m in exclusions.missing if m not in self.result.missing
            )
        self._decide(
            DecisionId.VALACYCLOVIR_PREVENTION, Outcome.INSUFFICIENT_DATA, (undated, *why),
            citations, rules,
        )  # fmt: skip

    def _undated_infection(self, pregnancy: Any) -> None:
        """The maternal infection without a chosen dating (fixr23b): its status, criterion, onset
        window and diagnosis date need no gestational date; the periconceptional window (I-13)
        does, so it is applied only when every dating given agrees on the status. The timing
        (trimester) is not given: it depends on the dates."""
        peri, _ = self.periconceptional()
        found = [
            classify_infection(
                self.case,
                self.on,
                self.t.protocol,
                PregnancyDating(lmp, basis).date_of(peri.from_day),
            )
            for lmp, basis in pregnancy.implied_lmps()
        ]
        if len({f.status for f in found}) != 1:
            found = [classify_infection(self.case, self.on, self.t.protocol, None)]
        infection = found[0]
        self.result.alerts.extend(infection.alerts)
        shown: dict[str, Any] = {"status": infection.status}
        if infection.criterion:
            shown["criterion"] = infection.criterion
            shown["criterion_text"] = CRITERIA[infection.criterion]
        if infection.onset is not None:
            shown["onset_window"] = infection.onset.as_list()
            shown["onset_basis"] = infection.onset.basis
        if infection.diagnosed_on:
            shown["diagnosed_on"] = infection.diagnosed_on
        self.result.findings["maternal_infection"] = shown

    def _undecidable(self, why: str, missing: Missing) -> None:
        self.result.decisions.append(
            Decision(
                DecisionId.VALACYCLOVIR_PREVENTION,
                Outcome.INSUFFICIENT_DATA,
                (f"No decision: {why}.",),
                self.t.protocol.prevention_onset_before.citations,
                ("A1", "A2"),
            )
        )
        self.result.missing.append(missing)

    def _infection_finding(
        self,
        infection: MaternalInfection,
        dating: PregnancyDating,
        peri: PeriodBounds,
        site_window: bool,
    ) -> dict[str, Any]:
        found: dict[str, Any] = {"status": infection.status}
        if infection.criterion:
            found["criterion"] = infection.criterion
            found["criterion_text"] = CRITERIA[infection.criterion]
        onset = infection.onset
        if onset is None:
            return found
        found["onset_window"] = onset.as_list()
        found["onset_basis"] = onset.basis
        timing = self.t.timing
        latest = timing_label(dating.day(onset.latest), peri, timing)
        if onset.earliest is None:
            found["timing"] = f"{latest} or earlier"
        else:
            first = timing_label(dating.day(onset.earliest), peri, timing)
            found["timing"] = first if first == latest else f"{first} to {latest}"
        if infection.diagnosed_on:
            found["diagnosed_on"] = infection.diagnosed_on
            found["diagnosed_at"] = dating.ga(infection.diagnosed_on)
        self.result.cite(timing.trimesters_source, "trimester boundaries (14+0, 28+0)")
        days = [dating.day(d) for d in (onset.earliest, onset.latest) if d is not None]
        if not site_window and min(days) <= peri.to_day:
            self.result.cite(
                timing.periconceptional_source,
                "periconceptional window (LMP - 7 days to LMP + 35 days; I-6)",
            )
        return found

    def _prevention(
        self,
        infection: MaternalInfection,
        dating: PregnancyDating,
        amnios: tuple[Amniocentesis, ...],
        earliest: date | None,
        window_start: date,
    ) -> None:
        protocol, result, on = self.t.protocol, self.result, self.on
        pregnancy = self.case.pregnancy
        assert pregnancy is not None
        base = protocol.prevention_onset_before.citations
        prevention = DecisionId.VALACYCLOVIR_PREVENTION
        indication = indication_for_prevention(infection, dating, protocol, window_start, result)
        if indication.outcome is not None:
            result.missing.extend(m for m in indication.missing if m not in result.missing)
            if "I-13" in indication.rules:
                extra = result.cite(
                    self.t.timing.preconceptional_immunity,
                    "CMV IgG positive before the periconceptional window: non-primary (I-13)",
                )
                base = (*base, *(c for c in extra if c not in base))
            result.decisions.append(
                Decision(
                    DecisionId.VALACYCLOVIR_PREVENTION,
                    indication.outcome,
                    indication.reasons,
                    base,
                    indication.rules,
                )
            )
            return
        assert earliest is not None
        course = course_of(
            amnios,
            earliest,
            pregnancy.amniocentesis_declined,
            pregnancy.amniocentesis_booked,
            dating,
            protocol,
            result,
            pregnancy.fetuses,
        )
        rules = (*indication.rules, *course.rules)
        stop_citations = _union(base, protocol.stop_without_amniocentesis.citations)
        if course.stop <= on:
            # The course is over: its stop date matters when a result ended it or a course was given.
            given = any(t.drug == "valacyclovir" for t in self.case.therapy)
            if course.by_result or given:
                result.schedule.append(_stop_item(course, stop_citations))
            if not (course.by_result and any(a.positive for a in amnios)):
                self._overdue(course.stop, course.ended_because, dating, stop_citations)
            ended = f"The prevention course ends on {course.stop}: {course.ended_because}."
            self._decide(
                prevention,
                Outcome.NOT_INDICATED,
                (*indication.reasons, ended),
                stop_citations,
                rules,
            )
            return
        outcome, why = exclusion_outcome(self.exclusions())
        rules = (*rules, "A7", "I-4", "I-11")
        citations = _union(base, self.exclusions().citations)
        if outcome is Outcome.INSUFFICIENT_DATA:
            result.missing.extend(m for m in self.exclusions().missing if m not in result.missing)
        if outcome is not None:
            # the exclusion first: it is what "what to do now" shows (probe13 S3)
            reasons = (
                (*why, *indication.reasons)
                if outcome is Outcome.EXCLUDED
                else (*indication.reasons, *why)
            )
            if outcome is Outcome.EXCLUDED:
                self._stop_running(why, citations)
            result.decisions.append(
                Decision(DecisionId.VALACYCLOVIR_PREVENTION, outcome, reasons, citations, rules)
            )
            return
        start = course_start(self.case, on, infection.diagnosed_on or on)
        regimen, dose_reasons, dose_outcome = valacyclovir_regimen(
            self.case, on, Indication.PREGNANCY_PREVENTION, self.knowledge, result,
            start=start, stop=course.stop, stop_rule=course.stop_rule,
        )  # fmt: skip
        if regimen is None:
            reasons = (*indication.reasons, *dose_reasons)
            result.decisions.append(
                Decision(
                    DecisionId.VALACYCLOVIR_PREVENTION,
                    dose_outcome,
                    reasons,
                    citations,
                    rules,
                )
            )
            return
        reasons = (
            *indication.reasons,
            "No exclusion criterion applies (A7).",
            *self._dose_notes(),
            *dose_in_force(self.case, on, Indication.PREGNANCY_PREVENTION, self.knowledge, result),
        )
        result.decisions.append(
            Decision(
                DecisionId.VALACYCLOVIR_PREVENTION,
                Outcome.RECOMMENDED,
                reasons,
                _union(citations, regimen.citations),
                (*rules, "A3", "A9"),
            )
        )
        result.regimens.append(regimen)
        result.schedule.append(_stop_item(course, stop_citations))
        result.schedule.extend(
            monitoring_schedule(self.t.monitoring, "prevention", start, course.stop, result)
        )

    def _overdue(
        self, stop: date, because: str | None, dating: PregnancyDating, citations: tuple[str, ...]
    ) -> None:
        """A valacyclovir course still running after the prevention course ended: stop it now."""
        on = self.on
        running = [
            t
            for t in self.case.therapy
            if t.drug == "valacyclovir"
            and t.start <= on
            and (t.stop is None or (t.stop > stop and t.stop >= on))
        ]
        if not running or stop >= on:
            return
        course = running[0]
        until = f"until {course.stop}" if course.stop else "with no stop date"
        self.result.alerts.append(
            Alert(
                AlertCode.THERAPY_BEYOND_EVIDENCE,
                Severity.WARNING,
                f"Valacyclovir (started {course.start}, recorded {until}) is still running on {on} "
                f"({dating.ga(on)}): the prevention course should have stopped on {stop} "
                f"({dating.ga(stop)}: {because}). Stop it now, unless in-utero treatment is decided "
                "(A5, I-3).",
                citations,
            )
        )

    def _patient_inputs(self) -> None:
        """probe13 S1/N6: every patient input the pregnancy form accepts is read by a rule or said
        to be unread. The protocol dose is fixed (2 g every 6 h, A3), so weight and height decide
        nothing here; an implausible pair (a body-mass index above the plausibility row's limit) is
        still named. ``can_take_oral`` is read by the regimen (tablets only)."""
        patient, result = self.case.patient, self.result
        body = dose_patient_from_case(self.case, self.on)  # the latest measured weight and height
        if body.weight_kg is not None and body.height_cm is not None:
            limits = self.knowledge.table("plausibility", PlausibilityLimits)
            bmi = Decimal(body.weight_kg) / (Decimal(body.height_cm) / 100) ** 2
            limit = limits.computed_crcl.obese_bmi_max
            if bmi > limit:
                result.alerts.append(
                    Alert(
                        AlertCode.IMPLAUSIBLE_INPUT,
                        Severity.WARNING,
                        f"The weight {body.weight_kg} kg at {body.height_cm} cm is a body-mass "
                        f"index of {bmi.quantize(Decimal('0.1'))} kg/m², above {limit}: check the "
                        "weight and the height (a weight in pounds?). The protocol dose does not "
                        "depend on them (A3).",
                        result.cite(limits, "body-mass index plausibility (probe13 N6)"),
                    )
                )
        if self.case.context is not Context.PREGNANCY:
            return
        unread = [
            name
            for name, value in (
                ("patient.icu", patient.icu),
                ("patient.child_pugh", patient.child_pugh),
                (
                    "patient.birth_weight_for_gestational_age",
                    patient.birth_weight_for_gestational_age,
                ),
            )
            if value is not None
        ]
        unread += sorted(
            {
                f"observations {o.code}" + (f"/{o.specimen}" if o.specimen else "")
                for o in self.case.observations
                if o.code not in _READ_CODES
                or (o.code == "platelets" and o.specimen != "fetal_blood")
            }
        )
        if any(o.hours_after_dose is not None for o in self.case.observations):
            unread.append("observations hours_after_dose")
        unread += sorted(
            {f"therapy {t.drug}" for t in self.case.therapy if t.drug != "valacyclovir"}
        )
        if unread:
            result.findings["inputs_not_read"] = (
                f"{', '.join(unread)}: no rule of the AIFA 648/96 protocol reads "
                f"{'it' if len(unread) == 1 else 'them'}, so {'it changes' if len(unread) == 1 else 'they change'} no decision here."
            )

    def _running_valacyclovir(self) -> list[Any]:
        """The valacyclovir courses running on the assessment date."""
        on = self.on
        return [
            t
            for t in self.case.therapy
            if t.drug == "valacyclovir" and t.start <= on and (t.stop is None or t.stop >= on)
        ]

    def _stop_running(self, why: tuple[str, ...], citations: tuple[str, ...]) -> None:
        """probe13 S3: a valacyclovir course running on the day an exclusion applies (a renal
        criterion, dialysis, age; a fetal-sign exclusion only when the course is not an in-utero
        treatment already under way, fixr23b): stop it now, with the exclusion as the reason. One
        alert and one stop item, however many decisions exclude."""
        on = self.on
        if any(
            i.event is ScheduleEvent.STOP_VALACYCLOVIR and i.earliest == on
            for i in self.result.schedule
        ):
            return
        running = self._running_valacyclovir()
        if not running:
            return
        course = running[0]
        until = f"until {course.stop}" if course.stop else "with no stop date"
        because = " ".join(why)
        self.result.alerts.insert(  # first: nothing above it may read as "give it"
            0,
            Alert(
                AlertCode.THERAPY_BEYOND_EVIDENCE,
                Severity.CRITICAL,
                f"Stop valacyclovir now: the course started on {course.start} (recorded {until}) is "
                f"running on {on}, and an exclusion criterion now applies. {because}",
                citations,
            ),
        )
        self.result.schedule.append(
            ScheduleItem(
                ScheduleEvent.STOP_VALACYCLOVIR,
                on,
                citations,
                reason=f"stop now: {because}",
            )
        )

    def _in_utero_course(
        self, positive: Amniocentesis, infected: list[int | None]
    ) -> tuple[Any, date | None] | None:
        """fixr23b: the valacyclovir course running today that is an in-utero treatment, and the
        date the fetus was found eligible (None when no reading on record qualified it).

        A course started on or after the positive amniotic-fluid result, or recorded as
        fetal treatment, is in-utero treatment (seed 000: prevention is suspended on a positive
        result, and any further treatment is in-utero treatment); so is a course during which a
        Table 1 reading (ultrasound or fetal blood, on or after the positive result, before
        today) recommended it. None when no such course runs."""
        on, case = self.on, self.case
        fetuses = case.pregnancy.fetuses if case.pregnancy else 1
        for course in self._running_valacyclovir():
            first = max(course.start, positive.reported)
            days = {first} | {
                d
                for d in chain(
                    (u.date for u in case.ultrasound),
                    (o.date for code in ("cmv_dna", "platelets") for o in case.results(code, "fetal_blood")),
                )
                if first <= d < on
            }  # fmt: skip
            for day in sorted(days):
                # a past reading: its alerts and citations are not today's
                scratch = PathwayResult()
                eligible = [
                    fetal_outcome(
                        signs_of_fetus(
                            case, day, fetus, self.t.signs, self.t.protocol, scratch, fetuses
                        ),
                        self.t.signs.table,
                        scratch,
                    )[0]
                    is Outcome.RECOMMENDED
                    for fetus in infected
                ]
                if all(eligible):
                    return course, day
            if course.start >= positive.reported or course.indication == "fetal-treatment":
                return course, None
        return None

    def _signs_changed(
        self,
        running: tuple[Any, date | None],
        readings: dict[str, FetalSigns],
        reasons: list[str],
        citations: tuple[str, ...],
    ) -> tuple[list[Outcome], list[str]] | None:
        """fixr23b: an in-utero course is running and today's Table 1 reading would exclude.
        Seed 000: once eligible, "the treatment continues until the end of the gestation"; the
        fetal-sign exclusions (a severe sign, no sign of disease) are judged at eligibility, and
        the protocol says nothing of stopping a running course for them. Signs no longer seen:
        treatment continues to delivery (the maternal exclusions are still checked). A severe
        sign seen now: not stopped automatically; a critical alert and specialist review."""
        course, eligible_on = running
        if eligible_on is None:
            started = (
                f"In-utero treatment with valacyclovir is running (started {course.start}); no "
                "reading in the case shows the Table 1 sign it was started on."
            )
        else:
            started = (
                f"In-utero treatment with valacyclovir is running (started {course.start}); the "
                f"fetus had signs of mild/moderate disease qualifying it on {eligible_on} "
                "(Table 1, A6)."
            )
        several = len(readings) > 1  # a fetus is named only in a multiple pregnancy
        severe = [
            f"{label}: {sign}" if several else sign
            for label, s in readings.items()
            for sign in s.severe_cerebral
        ]
        if severe:
            text = "; ".join(severe)
            self.result.alerts.insert(
                0,
                Alert(
                    AlertCode.OUTSIDE_EVIDENCE_BASE,
                    Severity.CRITICAL,
                    f"Severe fetal cerebral sign during in-utero treatment: {text}. The protocol "
                    "excludes a severe sign from starting treatment and says nothing of stopping a "
                    "running course: whether to continue valacyclovir is the specialist's decision; "
                    "review it now (A6, A8).",
                    citations,
                ),
            )
            why = [
                started,
                f"A severe cerebral sign is now seen ({text}): the protocol excludes it from starting "
                "in-utero treatment and says nothing of stopping a running course; not stopped "
                "automatically: specialist review (A6, A8).",
            ]
            return [Outcome.SPECIALIST_REVIEW], [reasons[0], *why]
        if eligible_on is None:
            return None  # never shown eligible: the exclusion stands (and stops the course)
        exams = (
            "; ".join(
                f"{label} ultrasound of {s.exam}" if several else f"ultrasound of {s.exam}"
                for label, s in readings.items()
                if s.exam
            )
            or "no ultrasound"
        )
        why = [
            started,
            f"No sign of fetal disease is seen now ({exams}): the absence of signs is an exclusion "
            "when eligibility is judged, not a reason to stop; once eligible, the treatment "
            "continues until the end of the gestation (A6).",
        ]
        return [Outcome.RECOMMENDED], [reasons[0], *why]

    def _dose_notes(self) -> list[str]:
        protocol = self.t.protocol
        fetuses = self.case.pregnancy.fetuses if self.case.pregnancy else 1
        notes = [f"Start as soon as possible after the diagnosis; {protocol.written_consent.note}"]
        self.result.cite(protocol.written_consent, "written informed consent (Law 648/96)")
        if fetuses > 1:
            self.result.cite(
                protocol.multiple_pregnancy_dose, "dose unchanged in multiple pregnancy"
            )
            notes.append(f"Multiple pregnancy ({fetuses} fetuses): the dose is unchanged (A3).")
        return notes

    def _decide(
        self,
        decision: DecisionId,
        outcome: Outcome,
        reasons: list[str] | tuple[str, ...],
        citations: tuple[str, ...],
        rules: tuple[str, ...],
    ) -> None:
        self.result.decisions.append(Decision(decision, outcome, tuple(reasons), citations, rules))

    def _fetal_treatment(
        self, dating: PregnancyDating | None, amnios: tuple[Amniocentesis, ...]
    ) -> None:
        """Rule A6 once an amniocentesis is known; a regimen until delivery when recommended."""
        protocol, result, on = self.t.protocol, self.result, self.on
        fetal = DecisionId.VALACYCLOVIR_FETAL_TREATMENT
        base = protocol.fetal_treatment_until_delivery.citations
        infected = infected_fetuses(amnios)
        if not infected:
            why = f"{_sentence(amnios[-1].describe())}: no fetal infection diagnosed; in-utero treatment does not apply (A6)."
            self._decide(fetal, Outcome.NOT_INDICATED, (why,), base, ("A6",))
            return
        positive = next(a for a in amnios if a.positive)
        reasons = [f"{_sentence(positive.describe())}: fetal CMV infection (A6)."]
        fetuses = self.case.pregnancy.fetuses if self.case.pregnancy else 1
        if fetuses > 1 and None in infected:
            reasons.append(
                f"Multiple pregnancy ({fetuses} fetuses): the positive amniotic-fluid result names no fetus, so "
                "the infected fetus and its Table 1 signs cannot be identified (I-10)."
            )
            self._decide(fetal, Outcome.INSUFFICIENT_DATA, reasons, base, ("A6", "I-10"))
            return
        readings: dict[str, FetalSigns] = {}
        outcomes: list[Outcome] = []
        missing: list[Missing] = []
        for fetus in infected:
            signs = signs_of_fetus(self.case, on, fetus, self.t.signs, protocol, result, fetuses)
            outcome, why_fetus, gaps = fetal_outcome(signs, self.t.signs.table, result)
            label = f"fetus {fetus}" if fetus else "fetus"
            readings[label] = signs
            outcomes.append(outcome)
            reasons += [f"{label.capitalize()}: {w}" if len(infected) > 1 else w for w in why_fetus]
            missing += [g for g in gaps if g not in missing]
        result.findings["fetal_signs"] = {label: s.as_finding() for label, s in readings.items()}
        citations = _union(base, *(tuple(s.citations) for s in readings.values()))
        if _combine(outcomes) is Outcome.EXCLUDED:
            running = self._in_utero_course(positive, infected)
            changed = (
                None
                if running is None
                else self._signs_changed(running, readings, reasons, citations)
            )
            if changed is not None:  # fixr23b: a fetal-sign exclusion does not stop it by itself
                outcomes, reasons = changed
                missing = []  # what would qualify a fetus is not asked for a course that runs
        rules: tuple[str, ...] = (
            "A6",
            "A8",
            "I-5",
            "I-7",
            "I-12",
            *(("I-10",) if fetuses > 1 else ()),
        )
        outcome = _combine(outcomes)
        if outcome is Outcome.EXCLUDED:
            reasons = [*reasons[1:], reasons[0]]  # the exclusion first (probe13 S3)
        if outcome is Outcome.SPECIALIST_REVIEW and len(set(outcomes)) > 1:
            message = "The fetuses differ in eligibility for in-utero treatment: specialist review."
            result.alerts.append(Alert(AlertCode.BOUNDARY_CASE, Severity.WARNING, message, base))
        if outcome is Outcome.RECOMMENDED or (
            outcome is Outcome.SPECIALIST_REVIEW and self._running_valacyclovir()
        ):
            # a running course is stopped by a maternal exclusion (drug safety, A7) whatever the
            # fetal reading (fixr23b)
            exclusions = self.exclusions()
            exclusion, why_excluded = exclusion_outcome(exclusions)
            citations = _union(citations, exclusions.citations)
            rules = (*rules, "A7", "I-4", "I-11")
            if exclusion is Outcome.INSUFFICIENT_DATA:
                missing += [m for m in exclusions.missing if m not in missing]
            if exclusion is Outcome.EXCLUDED:
                outcome = exclusion
                reasons = [*why_excluded, *reasons]  # the exclusion first (probe13 S3)
            elif exclusion is not None and outcome is Outcome.RECOMMENDED:
                outcome = exclusion
                reasons += why_excluded
        result.missing.extend(m for m in missing if m not in result.missing)
        if outcome is Outcome.EXCLUDED:
            self._stop_running(tuple(reasons[:1]), citations)
        if outcome is not Outcome.RECOMMENDED:
            self._decide(fetal, outcome, reasons, citations, rules)
            return
        start = course_start(self.case, on, positive.reported)
        # "until the end of gestation" (A6): the planned stop is the EDD, the structured date
        # beside the rule (probe9 #9); an EDD already past gives no date (delivery is awaited)
        # (probe13 S4: with a contradictory dating the decision, which needs no date, is given;
        # the EDD, and so a planned stop and monitoring dates, are not)
        due = dating.edd if dating is not None and dating.edd >= on else None
        if dating is None:
            rule = "until delivery (no EDD: the dating is contradictory; stop at delivery) (A6)"
        elif due is not None:
            rule = f"until delivery (EDD {dating.edd}) (A6)"
        else:
            rule = (
                f"until delivery (EDD {dating.edd} passed: no planned date; stop at delivery) (A6)"
            )

        regimen, dose_reasons, dose_outcome = valacyclovir_regimen(
            self.case, on, Indication.FETAL_TREATMENT, self.knowledge, result,
            start=start, stop=due, stop_rule=rule,
        )  # fmt: skip
        if regimen is None:
            reasons += dose_reasons
            self._decide(
                fetal,
                dose_outcome,
                reasons,
                citations,
                rules,
            )
            return
        result.cite(protocol.fetal_treatment_until_delivery, "in-utero treatment until delivery")
        reasons += [
            "No exclusion criterion applies (A7).",
            "Treat until delivery; it may follow a prevention course (A6).",
        ]
        if dating is not None and due is None:  # probe13 N6: past the EDD, no planned stop
            reasons.append(
                f"Past the EDD ({dating.edd}; {dating.ga(on)} today): valacyclovir continues until "
                "delivery, with no planned stop date; the timing of delivery is an obstetric "
                "decision outside the protocol."
            )
        until: date | None = None
        if dating is None and self.case.pregnancy is not None:
            # fixr23b: monitoring is counted from the course start, not from a gestational date;
            # without a chosen dating it is planned to the latest EDD any dating given implies
            until = max(
                PregnancyDating(lmp, b).edd for lmp, b in self.case.pregnancy.implied_lmps()
            )
            reasons.append(
                f"Monitoring is planned from the course start ({start}) to {until}, the latest EDD "
                "the datings given imply (the dating is contradictory); treatment stops at delivery."
            )
        reasons += self._dose_notes()
        reasons += dose_in_force(self.case, on, Indication.FETAL_TREATMENT, self.knowledge, result)
        citations = _union(citations, regimen.citations)
        self._decide(fetal, Outcome.RECOMMENDED, reasons, citations, (*rules, "A3", "A9"))
        result.regimens.append(regimen)
        if dating is not None:
            result.schedule += monitoring_schedule(
                self.t.monitoring, "fetal-treatment", start, dating.edd, result
            )
        elif until is not None:
            result.schedule += monitoring_schedule(
                self.t.monitoring, "fetal-treatment", start, until, result
            )


#: The observations a rule of this pathway reads (maternal serology and CMV DNA, amniotic fluid and
#: fetal blood, the renal exclusions); fetal platelets only from fetal blood (Table 1).
_READ_CODES = frozenset(
    {"cmv_igg", "cmv_igm", "cmv_igg_avidity", "cmv_dna", "platelets", "creatinine", "egfr",
     "creatinine_clearance_24h", "weight", "height"}
)  # fmt: skip


def _stop_item(course: Course, citations: tuple[str, ...]) -> ScheduleItem:
    """The prevention course's stop date as a schedule item (built only when it is shown)."""
    return ScheduleItem(
        ScheduleEvent.STOP_VALACYCLOVIR,
        course.stop,
        citations,
        reason=f"prevention course: {course.stop_rule}",
    )


def _combine(outcomes: list[Outcome]) -> Outcome:
    """One decision for several infected fetuses: agreement, else specialist review."""
    distinct = set(outcomes)
    if len(distinct) == 1:
        return outcomes[0]
    if Outcome.INSUFFICIENT_DATA in distinct and distinct <= {
        Outcome.INSUFFICIENT_DATA,
        Outcome.RECOMMENDED,
    }:
        return Outcome.INSUFFICIENT_DATA
    return Outcome.SPECIALIST_REVIEW


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _union(*groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(chain.from_iterable(groups)))


def evaluate(case: Case, knowledge: Knowledge, on: date, settings: SiteSettings) -> PathwayResult:
    """The pregnancy pathway's conclusions about ``case`` on ``on``."""
    return _Evaluation(case, knowledge, on, settings).run()
