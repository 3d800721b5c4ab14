"""The cited treatment overview of a population (``cmvcds explain CONTEXT``), generated from data.

``overview(context, knowledge)`` walks the sections that ``cmv_overview`` declares for the context.
A section shows its knowledge statements as written and/or sentences generated from the other
tables: SOT/HSCT prevention rows, treatment rules, HIV rules, doses computed by the dosing engine
for the table's reference adult, monitoring items, resistance options and the site settings. Every
statement carries its sources and whether they were verified; the overview carries the knowledge
version. The connecting words are the only text here; every number comes from a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from cmvcds.domain.case import Case, Observation, Patient, Sex, Transplant
from cmvcds.domain.results import Cited
from cmvcds.domain.settings import reference_profile, setting_specs
from cmvcds.domain.vocabulary import Context
from cmvcds.engine.dosing.patient import dose_patient_from_case
from cmvcds.engine.dosing.recommend import drug_label, recommend_dose
from cmvcds.engine.dosing.result import DoseRegimen
from cmvcds.engine.transplant.common import Tables, tables
from cmvcds.errors import CmvcdsError, InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.congenital import CongenitalCriteria, FollowUpCalendar
from cmvcds.knowledge.schemas.core import SettingCatalogue
from cmvcds.knowledge.schemas.pregnancy import PregnancyProtocol, Threshold
from cmvcds.knowledge.schemas.transplant import Overview, OverviewSection, ReferencePatient

__all__ = ["OVERVIEW_FORMAT", "CitedOverview", "OverviewStatement", "contexts", "overview"]

OVERVIEW_FORMAT = "cmvcds-overview/1"


@dataclass(frozen=True)
class OverviewStatement:
    text: str
    citations: tuple[str, ...]
    verified: bool = True


@dataclass(frozen=True)
class Section:
    kind: str
    title: str
    statements: tuple[OverviewStatement, ...]


@dataclass(frozen=True)
class CitedOverview:
    context: str
    title: str
    sections: tuple[Section, ...]
    knowledge: dict[str, str]
    references: tuple[dict[str, Any], ...]
    not_available: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": OVERVIEW_FORMAT,
            "context": self.context,
            "title": self.title,
            "knowledge": dict(self.knowledge),
            "sections": [
                {
                    "kind": s.kind,
                    "title": s.title,
                    "statements": [
                        {"text": st.text, "citations": list(st.citations), "verified": st.verified}
                        for st in s.statements
                    ],
                }
                for s in self.sections
            ],
            "references": list(self.references),
            "not_available": list(self.not_available),
        }


def contexts(knowledge: Knowledge) -> tuple[str, ...]:
    return tuple(knowledge.table("cmv_overview", Overview).contexts)


def overview(context: str, knowledge: Knowledge) -> CitedOverview:
    """The cited overview of ``context`` (``transplant``, ``hiv``, ``immunocompetent``, …)."""
    data = knowledge.table("cmv_overview", Overview)
    spec = data.contexts.get(context)
    if spec is None:
        raise InputError(
            f"no overview for {context!r} (available: {', '.join(data.contexts)})", field="CONTEXT"
        )
    builder = _Builder(knowledge, tables(knowledge), data, context)
    sections = tuple(builder.section(s) for s in spec.sections)
    cited = dict.fromkeys(c for s in sections for st in s.statements for c in st.citations)
    references = tuple(
        {
            "id": source_id,
            "citation": knowledge.sources[source_id].citation(),
            "url": knowledge.sources[source_id].url,
            "verified": knowledge.sources[source_id].verified,
        }
        for source_id in cited
    )
    return CitedOverview(
        context, spec.title, sections, knowledge.stamp(), references, tuple(builder.not_available)
    )


class _Builder:
    def __init__(self, knowledge: Knowledge, t: Tables, data: Overview, context: str) -> None:
        self.knowledge, self.t, self.data, self.context = knowledge, t, data, context
        self.not_available: list[str] = []

    def section(self, spec: OverviewSection) -> Section:
        statements = [OverviewStatement(s.text, s.citations, s.verified) for s in spec.statements]
        if spec.generate:
            generator: Callable[[OverviewSection], Iterable[OverviewStatement]] = getattr(
                self, f"_{spec.generate}"
            )
            generated = list(generator(spec))
            statements = (
                generated + statements if spec.kind != "summary" else statements + generated
            )
        return Section(spec.kind, spec.title, tuple(statements))

    def _say(self, text: str, *facts: Cited) -> OverviewStatement:
        citations = tuple(dict.fromkeys(c for f in facts for c in f.citations))
        return OverviewStatement(text, citations, all(f.verified for f in facts))

    def _sot_prevention(self, _: OverviewSection) -> Iterable[OverviewStatement]:
        sot, words = self.t.sot, self.data.wording
        window = sot.prophylaxis_start_window_days
        drug = sot.prophylaxis_drug.values[0]
        for row in sot.strategies:
            head = f"{row.organ.capitalize()}, {words[row.serostatus]}: "
            if row.strategy == "none":
                yield self._say(
                    head + "no CMV prophylaxis and no routine viral-load surveillance.", row
                )
                continue
            if row.stop_day is not None:
                until = f"through day {row.stop_day}"
            else:
                assert row.stop_day_range is not None
                until = (
                    f"through a day the site chooses between day {row.stop_day_range[0]} and "
                    f"{row.stop_day_range[1]} ({row.stop_day_setting})"
                )
            prophylaxis = (
                f"{drug} prophylaxis from day {int(window.low)}–{int(window.high)} {until}"
            )
            if row.drug_setting:
                prophylaxis += f", or letermovir through day {int(sot.letermovir_stop_day.value)} ({row.drug_setting})"
            if row.strategy == "site":
                text = f"{prophylaxis}, or pre-emptive therapy: the site chooses ({row.strategy_setting})."
            else:
                text = prophylaxis + "."
            if not row.preemptive_allowed:
                text += " Pre-emptive therapy alone is not recommended."
            facts: list[Cited] = [row, window]
            if row.drug_setting:
                facts.append(sot.letermovir_stop_day)
            yield self._say(head + text, *facts)
        yield self._say(
            f"Under a pre-emptive strategy: blood CMV viral load every {int(sot.surveillance_interval_days.value)} days "
            "(pet_surveillance_days_sot), therapy when it reaches the site's threshold (pet_threshold_iu_ml.sot).",
            sot.surveillance_interval_days,
        )

    def _hsct_prevention(self, _: OverviewSection) -> Iterable[OverviewStatement]:
        h = self.t.hsct
        window = h.letermovir_start_window_days
        yield self._say(
            f"Allogeneic HSCT, CMV-seropositive recipient (R+), age ≥ {int(h.adult_age_years.value)}: letermovir "
            f"from day {int(window.low)}–{int(window.high)} through day {int(h.letermovir_stop_day.value)}, with weekly "
            f"CMV PCR every {int(h.surveillance_interval_days.value)} days.",
            h.adult_age_years,
            window,
            h.letermovir_stop_day,
            h.surveillance_interval_days,
        )
        yield self._say(
            f"Continued through day {int(h.letermovir_extended_stop_day.value)} when at risk of late CMV ("
            + ", ".join(r.replace("_", " ") for r in h.letermovir_extension_risks.values)
            + "; each a site setting).",
            h.letermovir_extended_stop_day,
            h.letermovir_extension_risks,
        )
        yield self._say(
            f"R− recipients: no letermovir; weekly PCR surveillance through day {int(h.surveillance_stop_day.value)} "
            "and pre-emptive therapy at the site's threshold (pet_threshold_iu_ml.hsct); foscarnet when neutrophils are "
            "below the site's level (hsct_pet_foscarnet_anc_per_ul).",
            h.surveillance_stop_day,
            self.t.treatment.marrow_sparing,
        )

    def _treatment_durations(self, _: OverviewSection) -> Iterable[OverviewStatement]:
        tr = self.t.treatment
        yield self._say(
            f"IV {tr.first_line_iv.values[0]} for {' or '.join(s.replace('_', '-') for s in tr.iv_severities.values)} "
            f"disease, {' or '.join(tr.iv_organs.values)}, or doubtful absorption ({', '.join(tr.absorption_organs.values)} "
            f"disease); oral {tr.first_line_oral.values[0]} for mild to moderate disease.",
            tr.first_line_iv,
            tr.iv_severities,
            tr.iv_organs,
            tr.absorption_organs,
            tr.first_line_oral,
        )
        yield self._say(
            f"Treat for at least {int(tr.min_treatment_days.value)} days and until clinical resolution and one or two "
            "consecutive weekly viral loads below the limit (clearance_consecutive_weekly_tests, clearance_criterion).",
            tr.min_treatment_days,
        )
        yield self._say(
            f"{', '.join(tr.not_treatment_drugs.values).capitalize()} is a prophylaxis drug, never a treatment.",
            tr.not_treatment_drugs,
        )

    def _hiv_durations(self, _: OverviewSection) -> Iterable[OverviewStatement]:
        h = self.t.hiv
        yield self._say(
            f"Retinitis induction: oral valganciclovir for {int(h.induction_days.low)}–{int(h.induction_days.high)} days "
            "(hiv_induction_days), then maintenance.",
            h.induction_days,
        )
        yield self._say(
            f"Stop maintenance when on ART with inactive lesions, after {int(h.min_therapy_months.low)}–"
            f"{int(h.min_therapy_months.high)} months of therapy and with every CD4 count above "
            f"{int(h.cd4_cutoff_per_ul.value)} cells/µL for {int(h.cd4_window_months.low)}–{int(h.cd4_window_months.high)} "
            f"months (hiv_cd4_sustained_months); restart if CD4 falls below {int(h.cd4_cutoff_per_ul.value)}.",
            h.min_therapy_months,
            h.cd4_cutoff_per_ul,
            h.cd4_window_months,
        )
        yield self._say(
            f"Start ART within about {int(h.art_start_within_days.value)} days of starting anti-CMV therapy.",
            h.art_start_within_days,
        )
        yield self._say(
            f"Gastrointestinal disease: IV ganciclovir, then oral valganciclovir when tolerated, for "
            f"{int(h.gi_duration_days.low)}–{int(h.gi_duration_days.high)} days or until symptoms resolve.",
            h.gi_duration_days,
        )

    def _doses(self, spec: OverviewSection) -> Iterable[OverviewStatement]:
        reference = self.data.reference_patient
        yield self._say(self.data.wording["dose_heading"], reference)
        day = self.knowledge.released
        for example in spec.doses:
            patient = dose_patient_from_case(_reference_case(reference, day, example.organ), day)
            try:
                dose = recommend_dose(
                    patient,
                    example.drug,
                    example.indication,
                    self.knowledge,
                    regimen=example.regimen,
                    route=example.route,
                )
            except CmvcdsError:
                self.not_available.append(f"{example.drug} {example.indication}")
                continue
            if dose.regimen is None:
                self.not_available.append(f"{example.drug} {example.indication}")
                continue
            where = (
                f" ({example.organ.upper() if example.organ == 'hsct' else example.organ})"
                if example.organ
                else ""
            )
            text = (
                f"{example.drug.capitalize()}, {example.title or example.indication}{where}: "
                f"{_phase(dose.regimen)}"
            )
            then = dose.regimen.then
            while then is not None:
                text += f"; then {_phase(then)}"
                then = then.then
            if example.note:
                text += f" ({example.note})"
            yield OverviewStatement(text + ".", dose.citations)

    def _monitoring(self, _: OverviewSection) -> Iterable[OverviewStatement]:
        population = {"transplant": "sot", "hiv": "hiv"}.get(self.context, "other")
        for entry in self.t.monitoring.drugs:
            items = [
                i
                for i in entry.items
                if not i.populations
                or population in i.populations
                or (self.context == "transplant" and "hsct" in i.populations)
            ]
            for item in items:
                scope = f" ({', '.join(item.indications)})" if item.indications else ""
                yield self._say(
                    f"{entry.drug.capitalize()}{scope}: {item.reason}, every {item.every_days} days.",
                    item,
                )

    def _congenital_plan(self, _: OverviewSection) -> Iterable[OverviewStatement]:
        """Congenital CMV (probe11 U7): who is treated, with what, for how long, from
        ``congenital/criteria.yaml``, the congenital dosing rows and the follow-up calendar."""
        c = self.knowledge.table("congenital_criteria", CongenitalCriteria)
        d, trial, plan = c.diagnosis, c.trial_population, c.plan
        yield self._say(
            f"Congenital infection is confirmed by CMV DNA in {' or '.join(d.confirming_specimens)} "
            f"within the first {d.max_age_days} days of life; later, by a positive "
            f"{', '.join(s.replace('_', ' ') for s in d.late_specimens)}.",
            d,
        )
        for policy in c.policies:
            yield self._say(
                f"{_CATEGORY.get(policy.category, policy.category)}: "
                f"{policy.outcome.replace('_', ' ')} — "
                f"{policy.reason}"
                + (f" (site setting {policy.setting})." if policy.setting else "."),
                policy,
            )
        yield self._say(
            f"Trial population: start by day {trial.max_start_age_days} of life, gestational age "
            f"≥ {trial.min_gestational_age_weeks} weeks, weight ≥ {trial.min_weight_kg} kg; outside "
            "it, specialist review.",
            trial,
        )
        for drug, route in ((plan.drug, plan.route), (plan.iv_alternative_drug, "iv")):
            rows = drug_label(self.knowledge, drug).rows_for("congenital", "us")
            for row in rows:
                for band in row.bands:
                    if band.dose_mg_per_kg is None or band.every_h is None:
                        continue
                    yield self._say(
                        f"{drug.capitalize()} {_n(band.dose_mg_per_kg)} mg/kg every "
                        f"{_n(band.every_h)} h ({route}): {row.duration}.",
                        row,
                        band,
                    )
        yield self._say(
            f"Duration: {plan.duration_months} months ({plan.stop_rule}); IV {plan.iv_alternative_drug} "
            f"while oral {plan.drug} is not possible.",
            plan,
        )
        if c.renal_entry is not None:
            yield self._say(
                "Renal function: the infant's creatinine clearance (label Schwartz) at least "
                f"{_n(c.renal_entry.min_crcl_ml_min_1_73m2)} mL/min/1.73 m²; below it, "
                f"{c.renal_entry.action}.",
                c.renal_entry,
            )
        if c.genotype is not None:
            yield self._say(f"A resistance genotype: {c.genotype.action}.", c.genotype)
        calendar = self.knowledge.tables.get("congenital_follow_up")
        if isinstance(calendar, FollowUpCalendar):
            for visit in calendar.visits:
                when = (
                    f"at {visit.from_months} months"
                    if visit.from_months == visit.until_months
                    else f"from {visit.from_months} to {visit.until_months} months, every "
                    f"{visit.every_months}"
                )
                yield self._say(f"Follow-up, {visit.event}: {visit.reason} ({when}).", visit)

    def _pregnancy_plan(self, _: OverviewSection) -> Iterable[OverviewStatement]:
        """Pregnancy (probe11 U7): the AIFA 648/96 valacyclovir protocol from
        ``pregnancy/protocol.yaml`` and the valacyclovir pregnancy dosing row."""
        p = self.knowledge.table("pregnancy_protocol", PregnancyProtocol)
        yield self._say(
            "Prevention of fetal infection: valacyclovir after a primary maternal infection with "
            f"onset before {p.prevention_onset_before.ga} weeks of gestation.",
            p.prevention_onset_before,
        )
        for row in drug_label(self.knowledge, "valacyclovir").rows_for(
            "pregnancy-prevention", "us"
        ) or drug_label(self.knowledge, "valacyclovir").rows_for("pregnancy-prevention", "eu"):
            for band in row.bands:
                if band.dose_mg is None or band.every_h is None:
                    continue
                yield self._say(
                    f"Valacyclovir {_n(band.dose_mg)} mg every {_n(band.every_h)} h "
                    f"({_n(band.dose_mg * 24 / band.every_h)} mg a day), the same dose in a "
                    "multiple pregnancy.",
                    row,
                    band,
                    p.multiple_pregnancy_dose,
                )
        yield self._say(
            f"Amniocentesis at least {p.amniocentesis_after_onset.days} days after the onset and "
            f"never before {p.amniocentesis_not_before.ga} weeks; without amniocentesis, therapy "
            f"until {p.stop_without_amniocentesis.ga} weeks.",
            p.amniocentesis_after_onset,
            p.amniocentesis_not_before,
            p.stop_without_amniocentesis,
        )
        yield self._say(
            "Treatment in utero of a mild or moderate fetal infection: until delivery. Fetal blood "
            f"signs read (protocol Table 1): viraemia {_cmp(p.fetal_viraemia)}, platelets "
            f"{_cmp(p.fetal_platelets)}.",
            p.fetal_treatment_until_delivery,
            p.fetal_viraemia,
            p.fetal_platelets,
        )
        yield self._say(
            f"Excluded: age {_cmp(p.exclusion_age)}, creatinine {_cmp(p.exclusion_creatinine)}, "
            f"glomerular filtration {_cmp(p.exclusion_egfr)}.",
            p.exclusion_age,
            p.exclusion_creatinine,
            p.exclusion_egfr,
        )
        yield self._say(
            "Written informed consent under Law 648/96 (the physician's direct responsibility).",
            p.written_consent,
        )
        yield self._say(
            "The newborn is tested at birth: transmission after a negative amniocentesis was "
            "reported.",
            p.late_transmission,
        )

    def _resistance_options(self, _: OverviewSection) -> Iterable[OverviewStatement]:
        for option in self.t.treatment.options:
            yield self._say(option.wording, option)

    def _settings(self, _: OverviewSection) -> Iterable[OverviewStatement]:
        catalogue = self.knowledge.table("transplant_settings", SettingCatalogue)
        specs = setting_specs(self.knowledge)
        reference = reference_profile(self.knowledge)
        prefix = {"hiv": ("hiv_",)}.get(self.context)
        for spec in catalogue.settings:
            if prefix and not spec.name.startswith(prefix):
                continue
            if not prefix and spec.name.startswith("hiv_"):
                continue
            allowed = ""
            if spec.choices:
                allowed = f" ({' or '.join(spec.choices)})"
            elif spec.guideline:
                allowed = f" (guideline {_n(spec.guideline[0])}–{_n(spec.guideline[1])} {spec.unit or ''})".replace(
                    " )", ")"
                )
            row = reference.get(spec.name)
            default = ""
            if row is not None and row.value is not None:
                default = f" Reference profile (used unless the site chooses): {_shown(row.value)}."
            elif row is not None and row.knowledge_table is None:
                default = " No guideline value: the site must choose."
            yield self._say(f"{spec.name}: {spec.description}{allowed}.{default}", specs[spec.name])


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return _n(value) if isinstance(value, Decimal) else str(value)


def _n(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else str(value)


def _phase(regimen: DoseRegimen) -> str:
    text = f"{_n(regimen.dose_mg)} mg {regimen.schedule} {regimen.route}"
    if regimen.dose_mg_per_kg is not None:
        text = f"{_n(regimen.dose_mg_per_kg)} mg/kg ({_n(regimen.dose_mg)} mg) {regimen.schedule} {regimen.route}"
    if regimen.duration:
        text += f", {regimen.duration}"
    elif regimen.duration_days:
        text += f", {regimen.duration_days} days"
    return text


def _reference_case(reference: ReferencePatient, on: date, organ: str | None) -> Case:
    """The overview's reference adult as a case (with a transplant when the regimen needs the organ)."""
    return Case(
        id="reference-adult",
        assessed_on=on,
        context=Context.TRANSPLANT if organ else Context.IMMUNOCOMPETENT,
        patient=Patient(
            sex=Sex(reference.sex),
            age_years=reference.age_years,
            weight_kg=reference.weight_kg,
            height_cm=reference.height_cm,
        ),
        observations=(
            Observation(date=on, code="creatinine", value=reference.creatinine_mg_dl, unit="mg/dL"),
            Observation(date=on, code="urine_protein", result=reference.urine_protein),
        ),
        transplant=(
            Transplant.model_validate({"organ": organ, "allogeneic": True}) if organ else None
        ),
    )


#: the congenital disease categories in words
_CATEGORY = {
    "moderate_severe": "Moderate or severe disease",
    "mild": "Mild disease",
    "isolated_snhl": "Isolated sensorineural hearing loss",
    "asymptomatic": "Asymptomatic infection",
}

#: how a protocol threshold's comparison is printed
_SIGNS = {"lt": "<", "gt": ">", "le": "≤", "ge": "≥"}


def _cmp(threshold: Threshold) -> str:
    """``> 1.1 mg/dL``: a threshold as the protocol prints it."""
    sign = _SIGNS.get(str(threshold.comparison), str(threshold.comparison))
    return f"{sign} {_n(threshold.limit)} {threshold.unit}".rstrip()
