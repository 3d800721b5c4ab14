"""Statements generated from knowledge tables and from a patient's assessment.

A dose, a renal band or a protocol threshold is never typed into an answer statement: a template
of ``answers/templates.yaml`` gives the sentence shape, and the generator of the same id fills it
from the table the template names. Two kinds of generator exist:

- *static* ones run once, when the index is built (every labelled regimen with its renal bands;
  the AIFA protocol's dates and exclusions; the congenital trial population);
- *question* ones run for one question, with its numbers (the dose at the creatinine clearance
  the question gives; the earliest amniocentesis after an infection at the gestational age it
  gives).

``case_evidence`` turns a ``cmvcds-assessment/1`` document into statements citing the
assessment's own citations (her dates, his dose).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from cmvcds.engine.answers.evidence import Evidence
from cmvcds.engine.answers.label_wording import (
    band_result,
    band_wording,
    dose_wording,
    italian_texts,
    limits,
    number,
    refusal,
    region,
)
from cmvcds.engine.answers.vocabulary import Understanding, normalise
from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.answers import Template, TemplateSet
from cmvcds.knowledge.schemas.base import Fact

if TYPE_CHECKING:  # imported where a table is read: a cached index answers without building them
    from cmvcds.knowledge.schemas.drugs import Band, DrugLabel, RegimenRow
    from cmvcds.knowledge.schemas.pregnancy import Threshold

__all__ = ["case_evidence", "question_evidence", "table_evidence"]

#: The topic each dosing indication speaks to.
INDICATION_TOPICS: Mapping[str, str] = {
    "induction": "treatment",
    "maintenance": "treatment",
    "prophylaxis": "prophylaxis",
    "preemptive": "preemptive",
    "refractory": "resistance",
    "congenital": "treatment",
    "pregnancy-prevention": "prophylaxis",
    "fetal-treatment": "treatment",
}
_INDICATION_POPULATIONS: Mapping[str, str] = {
    "congenital": "congenital",
    "pregnancy-prevention": "pregnancy",
    "fetal-treatment": "pregnancy",
}

Generator = Callable[[Knowledge, Template], Iterator[Evidence]]
#: A question generator also receives the pack's Italian clinical texts (``italian_texts``),
#: which the engine keeps in its index: a later process does not unpickle the translation table.
QuestionGenerator = Callable[
    [Knowledge, Template, Understanding, Mapping[str, str]], Iterator[Evidence]
]


# ------------------------------------------------------------------ formatting


def _verified(rows: Sequence[Fact]) -> tuple[bool, str | None]:
    unverified = [r for r in rows if not r.verified]
    notes = sorted({r.note for r in unverified if r.note})
    return not unverified, (" ".join(notes) or None) if unverified else None


def _citations(rows: Sequence[Fact]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for row in rows:
        for c in row.citations:
            seen.setdefault(c, None)
    return tuple(seen)


def _evidence(
    template: Template,
    key: str,
    fields: Mapping[str, object],
    rows: Sequence[Fact],
    *,
    locator: str,
    drugs: tuple[str, ...] = (),
    topics: tuple[str, ...] = (),
    populations: tuple[str, ...] = (),
    origin: str = "table",
    needs_drug: bool = False,
) -> Evidence:
    verified, note = _verified(rows)
    # A label sentence without its Italian leaves the statement in English (never half-translated).
    italian = template.text_it is not None and all(
        v is not None for k, v in fields.items() if k.endswith("_it")
    )
    return Evidence(
        id=f"{template.id}:{key}",
        kind=template.kind.value,
        text=template.text.format(**fields),
        plain=template.plain.format(**fields) if template.plain else None,
        citations=_citations(rows),
        locator=locator,
        topics=tuple(dict.fromkeys((*template.topics, *topics))),
        populations=tuple(dict.fromkeys((*template.populations, *populations))),
        drugs=drugs,
        review=template.review,
        verified=verified,
        note=note,
        origin=origin,
        needs_drug=needs_drug,
        text_it=template.text_it.format(**fields) if italian and template.text_it else None,
        plain_it=template.plain_it.format(**fields) if italian and template.plain_it else None,
        italian=(template.italian or "translated") if italian else None,
    )


def _drug_labels(knowledge: Knowledge, pattern: str) -> Iterator[DrugLabel]:
    """The drug labels whose table name matches ``pattern`` (no other table is unpickled)."""
    from cmvcds.knowledge.schemas.drugs import DrugLabel

    for name in sorted(knowledge.names_of(DrugLabel)):
        if fnmatch.fnmatch(name, pattern):
            yield knowledge.table(name, DrugLabel)


def _regimen_scope(row: RegimenRow) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The topics and populations of a regimen, from its indications and organs."""
    topics = tuple(dict.fromkeys(INDICATION_TOPICS[i] for i in row.indications))
    if "maintenance" in row.indications:
        topics += ("maintenance",)
    populations = [
        _INDICATION_POPULATIONS[i] for i in row.indications if i in _INDICATION_POPULATIONS
    ]
    if row.organs:
        populations += ["hsct" if o == "hsct" else "sot" for o in row.organs]
    return topics, tuple(dict.fromkeys(populations))


def _drug_rules(knowledge: Knowledge, template: Template) -> Iterator[Evidence]:
    """The label's checks (contraindications, limits) and interactions, in its own words."""
    topics = {
        "drug-checks": ("toxicity", "eligibility", "monitoring"),
        "drug-interactions": ("interactions",),
    }[template.id]
    texts = knowledge.derived(italian_texts)
    for label in _drug_labels(knowledge, template.table):
        rules: Sequence[Any] = label.checks if template.id == "drug-checks" else label.interactions
        for rule in rules:
            extra: tuple[str, ...] = ()
            if template.id == "drug-checks" and rule.measure in (
                "creatinine_mg_dl",
                "crcl_ml_min",
                "crcl_ml_min_kg",
                "urine_protein_mg_dl",
                "dialysis",
            ):
                extra = ("renal",)
            fields = {
                "drug": label.drug.capitalize(),
                "message": rule.message,
                "message_it": texts.get(rule.message),
                "section": rule.section or "label",
            }
            item = _evidence(
                template,
                f"{label.drug}:{rule.id}",
                fields,
                [rule],
                locator=rule.section or "label",
                drugs=(label.drug, *_named_drugs(rule, knowledge)),
                topics=(*topics, *extra),
                needs_drug=True,
            )
            if template.id == "drug-interactions":
                item = replace(
                    item,
                    co_drugs=tuple(getattr(rule, "with_any", ())),
                    changes_dose=getattr(rule, "effect", None) == "dose",
                )
            yield item


def _named_drugs(rule: Any, knowledge: Knowledge) -> tuple[str, ...]:
    """The cmvcds drugs an interaction names (maribavir with ganciclovir → ganciclovir)."""
    names = set(getattr(rule, "with_any", ()))
    return tuple(label.drug for label in _drug_labels(knowledge, "drug_*") if label.drug in names)


def _lower_first(text: str) -> str:
    """``Prevention of CMV disease`` → ``prevention of CMV disease`` (acronyms kept)."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


# ------------------------------------------------------------------ static generators


def _drug_regimens(knowledge: Knowledge, template: Template) -> Iterator[Evidence]:
    texts = knowledge.derived(italian_texts)
    for label in _drug_labels(knowledge, template.table):
        for row in label.regimens:
            topics, populations = _regimen_scope(row)
            usual = next((b for b in row.bands if b.refuse is None), None)
            fields: dict[str, object] = {
                "drug": label.drug.capitalize(),
                "drug_lower": label.drug,
                "section": row.section or "label",
            }
            for lang, suffix in (("en", ""), ("it", "_it")):
                fields |= {
                    f"description{suffix}": _said(row.description, lang, texts),
                    f"region{suffix}": region(row, lang),
                    f"doses{suffix}": _regimen_doses(
                        row, lang, texts, _MEASURE_UNITS.get(label.renal_measure or "", "")
                    ),
                    f"duration{suffix}": _duration(row.duration, lang, texts),
                    f"usual{suffix}": dose_wording(usual, lang, texts)
                    if usual is not None
                    else _USUAL_UNKNOWN[lang],
                    f"limits{suffix}": limits(row, lang),
                }
            rows: list[Fact] = [row, *row.bands]
            evidence = _evidence(
                template,
                f"{label.drug}:{row.id}",
                fields,
                rows,
                locator=row.section or "label",
                drugs=(label.drug,),
                topics=(
                    *topics,
                    *(("renal",) if row.renal_bands else ()),
                    *(("eligibility",) if fields["limits"] or row.outcome else ()),
                    # "How long is prophylaxis after a heart transplant?": the row's own duration
                    # (through day 100) answers it (fix15b, probe15 B1).
                    *(("duration",) if row.duration else ()),
                ),
                populations=populations,
                needs_drug=True,
            )
            # A paediatric formula states the dose as much as a band does.
            stated = usual is not None or getattr(row, "formula", None) is not None
            yield replace(evidence, states_dose=stated)


def _drug_administration(knowledge: Knowledge, template: Template) -> Iterator[Evidence]:
    """Each distinct line of how a drug is given (its regimens' ``administration``), once per
    drug, stated with the first regimen that gives it: the cidofovir probenecid schedule and
    saline prehydration are label facts the dose alone does not say (probe10 S3)."""
    texts = knowledge.derived(italian_texts)
    for label in _drug_labels(knowledge, template.table):
        seen: set[str] = set()
        for row in label.regimens:
            for n, line in enumerate(row.administration):
                if line in seen:
                    continue
                seen.add(line)
                _topics, populations = _regimen_scope(row)
                fields = {
                    "drug": label.drug.capitalize(),
                    "description": _lower_first(row.description),
                    "description_it": _said(row.description, "it", texts),
                    "instruction": line,
                    "instruction_it": _said(line, "it", texts),
                    "section": row.section or "label",
                }
                yield _evidence(
                    template,
                    f"{label.drug}:{row.id}:{n}",
                    fields,
                    [row],
                    locator=row.section or "label",
                    drugs=(label.drug,),
                    populations=populations,
                    needs_drug=True,
                )


#: What the plain regimen says when the label gives no usual dose.
_USUAL_UNKNOWN = {"en": "set by the doctor", "it": "stabilita dal medico"}
_PEDIATRIC_FORMULA = {
    "en": "dose from the label's paediatric formula",
    "it": "dose dalla formula pediatrica della scheda tecnica",
}
_DURATION = {"en": "; duration ", "it": "; durata "}
_BSA_CRCL = {
    "en": "dose (mg) = {factor} × BSA (Mosteller, m²) × CrCl (label Schwartz, mL/min/1.73 m², at"
    " most {cap}) every {every} h, at most {dose_cap} mg, rounded to {round_to} mg",
    "it": "dose (mg) = {factor} × BSA (Mosteller, m²) × CrCl (Schwartz della scheda tecnica,"
    " mL/min/1,73 m², al massimo {cap}) ogni {every} h, al massimo {dose_cap} mg, arrotondata a"
    " {round_to} mg",
}


def _said(english: str, lang: str, texts: Mapping[str, str]) -> str | None:
    """A label sentence in ``lang`` (None when its Italian is missing)."""
    return english if lang == "en" else texts.get(english)


def _duration(duration: str | None, lang: str, texts: Mapping[str, str]) -> str | None:
    if not duration:
        return ""
    said = _said(duration, lang, texts)
    return None if said is None else _DURATION[lang] + said


#: The unit printed after a renal band when the label's measure is not mL/min.
_MEASURE_UNITS = {"crcl_ml_min_kg": "mL/min/kg"}


def _regimen_doses(
    row: RegimenRow, lang: str, texts: Mapping[str, str], unit: str = ""
) -> str | None:
    """Every band of a regimen (``CrCl ≥ 60: 900 mg every 12 h; ...``) or its refusal."""
    if row.outcome is not None:
        reason = _said(row.reason or "", lang, texts)
        return None if reason is None else f"{refusal(row.outcome, lang)}: {reason}"
    if not row.bands:
        formula = getattr(row, "formula", None)
        if formula is None or getattr(formula, "kind", None) != "bsa-crcl":
            return _PEDIATRIC_FORMULA[lang]
        # The formula's own coefficients (drugs/*.yaml ``formula``), so that "what is the
        # paediatric formula?" is answered (fix15b, probe15 B4).
        return _BSA_CRCL[lang].format(
            factor=number(formula.factor),
            cap=number(formula.crcl_cap_ml_min_173),
            dose_cap=number(formula.dose_cap_mg),
            round_to=number(formula.round_to_mg),
            every=number(formula.every_h),
        )
    parts = []
    for band in row.bands:
        result = band_result(band, lang, texts)
        wording = band_wording(band, lang, texts, unit) if band.bounded or band.dialysis else ""
        if result is None or wording is None:
            return None
        parts.append(f"{wording}: {result}" if wording else result)
    return "; ".join(parts)


def _pregnancy_protocol(knowledge: Knowledge, template: Template) -> Iterator[Evidence]:
    if "pregnancy_protocol" not in knowledge.tables:
        return
    from cmvcds.knowledge.schemas.pregnancy import PregnancyProtocol

    p = knowledge.table("pregnancy_protocol", PregnancyProtocol)
    fields = {
        "onset_before": p.prevention_onset_before.ga,
        "after_onset_days": p.amniocentesis_after_onset.days,
        "after_onset_weeks": number(Fraction(p.amniocentesis_after_onset.days, 7)),
        "not_before": p.amniocentesis_not_before.ga,
        "stop_without": p.stop_without_amniocentesis.ga,
        "age": _threshold(p.exclusion_age),
        "age_it": _threshold(p.exclusion_age).replace("years", "anni"),
        "creatinine": _threshold(p.exclusion_creatinine),
        "egfr": _threshold(p.exclusion_egfr),
    }
    regimen = _pregnancy_regimen(knowledge)
    if regimen is not None:
        _row, band = regimen
        assert band.dose_mg is not None and band.every_h is not None
        daily = band.dose_mg * 24 / band.every_h
        fields |= {
            "dose_g": number(band.dose_mg / 1000),
            "every_h": number(band.every_h),
            "daily_g": number(daily / 1000),
        }
    rows_by_template: dict[str, list[Fact]] = {
        "pregnancy-prevention-window": [p.prevention_onset_before],
        "pregnancy-amniocentesis-timing": [p.amniocentesis_after_onset, p.amniocentesis_not_before],
        "pregnancy-stop-without-amniocentesis": [p.stop_without_amniocentesis],
        "pregnancy-exclusions": [p.exclusion_age, p.exclusion_creatinine, p.exclusion_egfr],
    }
    if regimen is not None:
        rows_by_template["pregnancy-prevention-regimen"] = [
            *regimen,
            p.stop_without_amniocentesis,
        ]
    elif template.id == "pregnancy-prevention-regimen":
        return  # no valacyclovir pregnancy regimen in the pack: nothing to state
    rows = rows_by_template.get(template.id)
    if rows is None:
        raise KnowledgeError(f"answers/templates.yaml: no pregnancy generator for {template.id!r}")
    yield _evidence(template, "aifa", fields, rows, locator="Allegato 1", drugs=("valacyclovir",))


def _pregnancy_regimen(knowledge: Knowledge) -> tuple[RegimenRow, Band] | None:
    """The valacyclovir regimen of the AIFA protocol (the label table's ``pregnancy`` row) and its
    fixed-dose band: the dose a regimen statement in pregnancy repeats."""
    for label in _drug_labels(knowledge, "drug_*"):
        if label.drug != "valacyclovir":
            continue
        for row in label.regimens:
            if row.id == "pregnancy" and row.outcome is None:
                band = next(
                    (b for b in row.bands if b.dose_mg is not None and b.every_h is not None),
                    None,
                )
                if band is not None:
                    return row, band
    return None


def _threshold(threshold: Threshold) -> str:
    """``> 1.1 mg/dL``: the comparison as printed, the limit and its unit."""
    sign = {"lt": "<", "gt": ">", "le": "≤", "ge": "≥"}.get(
        threshold.comparison, threshold.comparison
    )
    return f"{sign} {number(threshold.limit)} {threshold.unit}"


#: Specimen names of the congenital criteria table, in Italian.
_SPECIMENS_IT = {
    "urine": "urine",
    "saliva": "saliva",
    "dried_blood_spot": "cartoncino di sangue essiccato (screening)",
}


def _congenital_criteria(knowledge: Knowledge, template: Template) -> Iterator[Evidence]:
    if "congenital_criteria" not in knowledge.tables:
        return
    from cmvcds.knowledge.schemas.congenital import CongenitalCriteria

    c = knowledge.table("congenital_criteria", CongenitalCriteria)
    fields = {
        "max_start_age_days": c.trial_population.max_start_age_days,
        "min_ga_weeks": c.trial_population.min_gestational_age_weeks,
        "min_weight_g": number(c.trial_population.min_weight_kg * 1000),
        "diagnosis_days": c.diagnosis.max_age_days,
        "specimens": " or ".join(c.diagnosis.confirming_specimens),
        "late_specimens": " or ".join(s.replace("_", " ") for s in c.diagnosis.late_specimens)
        or "none",
        "specimens_it": " o ".join(
            _SPECIMENS_IT.get(s, s) for s in c.diagnosis.confirming_specimens
        ),
        "late_specimens_it": " o ".join(
            _SPECIMENS_IT.get(s, s.replace("_", " ")) for s in c.diagnosis.late_specimens
        )
        or "nessuno",
        "months": c.plan.duration_months,
        "drug": c.plan.drug,
        "iv_drug": c.plan.iv_alternative_drug,
    }
    rows: dict[str, list[Fact]] = {
        "congenital-trial-population": [c.trial_population],
        "congenital-diagnosis-window": [c.diagnosis],
        "congenital-plan": [c.plan],
    }
    if template.id not in rows:
        raise KnowledgeError(f"answers/templates.yaml: no congenital generator for {template.id!r}")
    yield _evidence(
        template,
        "criteria",
        fields,
        rows[template.id],
        locator="congenital criteria",
        drugs=(c.plan.drug,),
    )


def _immune_rules(knowledge: Knowledge, template: Template) -> Iterator[Evidence]:
    """The treatment-duration minimum (transplant) and the HIV retinitis numbers."""
    if template.id == "sot-treatment-minimum":
        if "cmv_treatment" not in knowledge.tables:
            return
        from cmvcds.knowledge.schemas.transplant import TreatmentRules

        t = knowledge.table("cmv_treatment", TreatmentRules)
        fields: dict[str, object] = {"min_days": number(t.min_treatment_days.value)}
        rows: list[Fact] = [t.min_treatment_days]
    elif template.id in ("hiv-stop-maintenance", "hiv-induction-and-art"):
        if "hiv_cmv" not in knowledge.tables:
            return
        from cmvcds.knowledge.schemas.transplant import HivRules

        h = knowledge.table("hiv_cmv", HivRules)
        fields = {
            "cd4": number(h.cd4_cutoff_per_ul.value),
            "window_low": number(h.cd4_window_months.low),
            "window_high": number(h.cd4_window_months.high),
            "therapy_low": number(h.min_therapy_months.low),
            "therapy_high": number(h.min_therapy_months.high),
            "induction_low": number(h.induction_days.low),
            "induction_high": number(h.induction_days.high),
            "art_days": number(h.art_start_within_days.value),
        }
        rows = (
            [h.cd4_cutoff_per_ul, h.cd4_window_months, h.min_therapy_months]
            if template.id == "hiv-stop-maintenance"
            else [h.induction_days, h.art_start_within_days]
        )
    else:
        raise KnowledgeError(f"answers/templates.yaml: no generator for {template.id!r}")
    drugs = ("valganciclovir",) if template.id == "hiv-induction-and-art" else ()
    yield _evidence(template, "rules", fields, rows, locator=template.table, drugs=drugs)


def _blood_count_holds(knowledge: Knowledge, template: Template) -> Iterator[Evidence]:
    """What to do when an infant's blood count falls on valganciclovir or ganciclovir: the pack's
    hold/restart limits (``monitoring/toxicity.yaml``, congenital rows) and every restart dose
    its sources give (fix15b, probe15 S5: the question got a resistance passage)."""
    if "monitoring_toxicity" not in knowledge.tables:
        return
    from cmvcds.knowledge.schemas.monitoring import ToxicityLimits

    limits = knowledge.table("monitoring_toxicity", ToxicityLimits)
    for row in limits.blood_counts:
        if "congenital" not in row.contexts or row.resume_above is None:
            continue
        restart: dict[str, list[str]] = {"en": [], "it": []}
        for option in row.resume_doses:
            whole = option.fraction == 1
            after = option.resume_above
            restart["en"].append(
                ("the full dose" if whole else f"{number(option.fraction * 100)}% of the dose")
                + (f" once the count is above {number(after)}/mm³" if after is not None else "")
            )
            restart["it"].append(
                ("la dose piena" if whole else f"il {number(option.fraction * 100)}% della dose")
                + (f" quando la conta supera {number(after)}/mm³" if after is not None else "")
            )
        fields = {
            "drugs": " or ".join(row.drugs),
            "drugs_it": " o ".join(row.drugs),
            "hold": number(row.hold_below),
            "resume": number(row.resume_above),
            "restart": "; ".join(restart["en"]) or "not stated",
            "restart_it": "; ".join(restart["it"]) or "non indicata",
        }
        rows: list[Fact] = [row, *row.resume_doses]
        yield _evidence(
            template,
            row.id,
            fields,
            rows,
            locator=f"monitoring toxicity {row.id}",
            drugs=tuple(row.drugs),
        )


STATIC: Mapping[str, Generator] = {
    "sot-treatment-minimum": _immune_rules,
    "hiv-stop-maintenance": _immune_rules,
    "hiv-induction-and-art": _immune_rules,
    "drug-regimens": _drug_regimens,
    "drug-administration": _drug_administration,
    "drug-checks": _drug_rules,
    "drug-interactions": _drug_rules,
    "pregnancy-prevention-window": _pregnancy_protocol,
    "pregnancy-amniocentesis-timing": _pregnancy_protocol,
    "pregnancy-stop-without-amniocentesis": _pregnancy_protocol,
    "pregnancy-exclusions": _pregnancy_protocol,
    "pregnancy-prevention-regimen": _pregnancy_protocol,
    "congenital-trial-population": _congenital_criteria,
    "congenital-diagnosis-window": _congenital_criteria,
    "congenital-plan": _congenital_criteria,
    "congenital-count-hold": _blood_count_holds,
}


# ------------------------------------------------------------------ question generators


def _dose_at_crcl(
    knowledge: Knowledge, template: Template, question: Understanding, texts: Mapping[str, str]
) -> Iterator[Evidence]:
    crcl = question.numbers.get("crcl_ml_min")
    if not isinstance(crcl, Decimal) or not question.drugs:
        return
    wanted = {t for t in question.topics if t in set(INDICATION_TOPICS.values())}
    for label in _drug_labels(knowledge, template.table):
        if label.drug not in question.drugs or label.renal_measure != "crcl_ml_min":
            continue
        for row in label.regimens:
            topics, populations = _regimen_scope(row)
            if row.outcome is not None or not row.renal_bands or not row.preferred:
                continue
            if "us" not in row.regions and any(
                "us" in r.regions
                for r in label.regimens
                if r.name == row.name
                and set(r.indications) & set(row.indications)
                and r.outcome is None
            ):
                continue
            if wanted and not wanted & set(topics):
                continue
            band = next(
                (b for b in row.bands if not b.dialysis and b.contains(Fraction(crcl))), None
            )
            if band is None:
                continue
            fields: dict[str, object] = {
                "crcl": number(crcl),
                "drug": label.drug,
                "section": band.section or row.section or "label",
            }
            phases = _phases_at(label, row, Fraction(crcl)) if band.refuse is None else []
            for lang, suffix in (("en", ""), ("it", "_it")):
                description = _said(row.description, lang, texts)
                result = band_result(band, lang, texts)
                if band.refuse is not None and result is not None:
                    reason = _said(band.reason or "", lang, texts)
                    result = None if reason is None else f"{result}: {reason}"
                if len(phases) > 1:
                    result = _phased_result(phases, lang, texts)
                fields |= {
                    f"band{suffix}": band_wording(band, lang, texts),
                    f"description{suffix}": None
                    if description is None
                    else _lower_first(description),
                    f"region{suffix}": region(row, lang),
                    f"result{suffix}": result,
                }
            yield _evidence(
                template,
                f"{label.drug}:{row.id}:{number(crcl)}",
                fields,
                [row, band, *(fact for phase in phases[1:] for fact in phase)],
                locator=band.section or row.section or "label",
                drugs=(label.drug,),
                topics=topics,
                populations=populations,
                origin="question",
            )


#: The phase a regimen row is, by its first indication, when the label chains phases (``then``).
_PHASES = {
    "en": {
        "induction": "induction",
        "maintenance": "maintenance",
        "prophylaxis": "prevention",
        "refractory": "treatment",
    },
    "it": {
        "induction": "induzione",
        "maintenance": "mantenimento",
        "prophylaxis": "prevenzione",
        "refractory": "trattamento",
    },
}
_THEN = {"en": "; then ", "it": "; poi "}
_PHASE_DURATION = {"en": ", duration ", "it": ", durata "}


def _phases_at(label: DrugLabel, row: RegimenRow, crcl: Fraction) -> list[tuple[RegimenRow, Band]]:
    """``row`` and the phases the label chains after it (induction, then maintenance), each with
    its own band at ``crcl``: the label's renal table gives each phase its own dose and interval."""
    by_id = {r.id: r for r in label.regimens}
    phases: list[tuple[RegimenRow, Band]] = []
    current: RegimenRow | None = row
    while current is not None:
        band = next((b for b in current.bands if not b.dialysis and b.contains(crcl)), None)
        if band is None:
            return []
        phases.append((current, band))
        current = by_id.get(current.then) if current.then else None
    return phases


def _phased_result(
    phases: Sequence[tuple[RegimenRow, Band]], lang: str, texts: Mapping[str, str]
) -> str | None:
    """``induction 450 mg every 12 h (900 mg/day), duration 21 days; then maintenance 450 mg
    every 24 h``: each phase named, with its own dose and interval (and the first ones' duration),
    so that no phase reads as dosed like another."""
    parts = []
    for i, (row, band) in enumerate(phases):
        name = _PHASES[lang].get(row.indications[0]) if row.indications else None
        result = band_result(band, lang, texts)
        if name is None or result is None:
            return None
        if band.refuse is not None:
            reason = _said(band.reason or "", lang, texts)
            if reason is None:
                return None
            result = f"{result}: {reason}"
        part = f"{name} {result}"
        if i < len(phases) - 1 and row.duration:
            duration = _said(row.duration, lang, texts)
            if duration is None:
                return None
            part += _PHASE_DURATION[lang] + duration
        parts.append(part)
    return _THEN[lang].join(parts)


def _amniocentesis_date(
    knowledge: Knowledge, template: Template, question: Understanding, texts: Mapping[str, str]
) -> Iterator[Evidence]:
    ga_text = question.numbers.get("gestational_age")
    if not isinstance(ga_text, str) or "pregnancy_protocol" not in knowledge.tables:
        return
    asked = normalise(question.question)
    if _CURRENT_AGE.search(asked) and not _ONSET_WORDS.search(asked):
        # "sono incinta di 10 settimane": how far the pregnancy is, not when the infection began
        # (probe10 R3); the date after an onset is computed when the question gives the onset.
        return
    from cmvcds.domain.gestational_age import GestationalAge
    from cmvcds.knowledge.schemas.pregnancy import PregnancyProtocol

    p = knowledge.table("pregnancy_protocol", PregnancyProtocol)
    onset = GestationalAge.parse(ga_text)
    after = GestationalAge(onset.days + p.amniocentesis_after_onset.days)
    floor = GestationalAge.parse(p.amniocentesis_not_before.ga)
    earliest = max(after, floor)
    window = GestationalAge.parse(p.prevention_onset_before.ga)
    fields = {
        "onset": str(onset),
        "after": str(after),
        "floor": str(floor),
        "earliest": str(earliest),
        "days": p.amniocentesis_after_onset.days,
        "window": "within" if onset < window else "outside",
        "window_it": "entro la" if onset < window else "fuori dalla",
        "onset_before": str(window),
    }
    yield _evidence(
        template,
        f"onset-{onset.days}",
        fields,
        [p.amniocentesis_after_onset, p.amniocentesis_not_before, p.prevention_onset_before],
        locator="Allegato 1 (rule A4)",
        drugs=("valacyclovir",),
        populations=("pregnancy",),
        origin="question",
    )


#: A gestational age given as how far the pregnancy is ("10 weeks pregnant", "incinta di 10
#: settimane", "sono alla 10a settimana").
_CURRENT_AGE = re.compile(
    r"(?<![a-z])(?:\d{1,2}\s*(?:weeks?|wks?)\s+pregnant|(?:incinta|gravida)\s+(?:di\s+)?\d{1,2}"
    r"|sono\s+(?:alla|in)\s+\d{1,2}|i\s*(?:am|m)\s+\d{1,2}\s*weeks?)"
)
#: Words that date the infection itself (onset, seroconversion, infected at week N).
_ONSET_WORDS = re.compile(
    r"(?<![a-z])(?:onset|began|started|caught|infected|infection (?:at|in)|seroconver\w*"
    r"|esordio|iniziat[ao]|contratt[ao]|infezione (?:alla|a|nella))(?![a-z])"
)

#: ``_evidence`` for the generators of other modules (resistance_lists).
fill = _evidence


def _resistance_lists(
    knowledge: Knowledge, template: Template, question: Understanding, texts: Mapping[str, str]
) -> Iterator[Evidence]:
    from cmvcds.engine.answers.resistance_lists import resistance_lists

    yield from resistance_lists(knowledge, template, question)


def _mutation_calls(
    knowledge: Knowledge, template: Template, question: Understanding, texts: Mapping[str, str]
) -> Iterator[Evidence]:
    from cmvcds.engine.answers.resistance_lists import mutation_calls

    yield from mutation_calls(knowledge, template, question)


QUESTION: Mapping[str, QuestionGenerator] = {
    "dose-at-crcl": _dose_at_crcl,
    "amniocentesis-after-onset": _amniocentesis_date,
    "resistance-mutations": _resistance_lists,
    "resistance-mutation-call": _mutation_calls,
}


def table_evidence(knowledge: Knowledge, templates: TemplateSet) -> list[Evidence]:
    """Every statement the static templates generate from the pack's tables."""
    out: list[Evidence] = []
    for template in templates.templates:
        if template.id in QUESTION:
            continue
        generator = STATIC.get(template.id)
        if generator is None:
            raise KnowledgeError(
                f"answers/templates.yaml: template {template.id!r} has no generator"
            )
        out.extend(generator(knowledge, template))
    return out


def question_evidence(
    knowledge: Knowledge,
    templates: TemplateSet,
    question: Understanding,
    texts: Mapping[str, str],
) -> list[Evidence]:
    """The statements computed for this question from its numbers (a CrCl, a gestational age);
    ``texts``: the pack's ``italian_texts``."""
    out: list[Evidence] = []
    for template in templates.templates:
        generator = QUESTION.get(template.id)
        if generator is not None:
            out.extend(generator(knowledge, template, question, texts))
    return out


# ------------------------------------------------------------------ the patient's own assessment

_DECISION_TOPICS: Mapping[str, tuple[str, ...]] = {
    "valacyclovir-prevention": ("prophylaxis", "eligibility"),
    "valacyclovir-fetal-treatment": ("treatment", "eligibility"),
    "valganciclovir-congenital": ("treatment", "eligibility"),
    "antiviral-prophylaxis": ("prophylaxis",),
    "preemptive-therapy": ("preemptive",),
    "antiviral-treatment": ("treatment",),
    "resistance-genotyping": ("resistance",),
}
_CONTEXT_POPULATIONS: Mapping[str, tuple[str, ...]] = {
    "pregnancy": ("pregnancy",),
    "congenital": ("congenital",),
    "transplant": ("sot", "hsct"),
    "hiv": ("hiv",),
    "immunocompromised": ("immunocompromised",),
    "immunocompetent": ("immunocompetent",),
}
_OUTCOME_WORDING = {
    "recommended": "recommended",
    "not_indicated": "not indicated",
    "excluded": "excluded (indicated, but an exclusion criterion applies)",
    "specialist_review": "specialist review (outside the evidence base)",
    "insufficient_data": "insufficient data",
}
#: Where a computed item has no citation of its own (a missing datum), it cites the case format.
CASE_FORMAT_SOURCE = "cmvcds2026-case-format"


def case_populations(assessment: Mapping[str, Any]) -> tuple[str, ...]:
    """The populations of the patient's context (a pregnancy case is about pregnancy)."""
    return _CONTEXT_POPULATIONS.get(str(assessment.get("context")), ())


def case_evidence(
    assessment: Mapping[str, Any],
    templates: TemplateSet,
    italian: Mapping[str, str] | None = None,
) -> list[Evidence]:
    """Statements for this patient, from a ``cmvcds-assessment/1`` document (design.md §4);
    ``italian`` (the pack's English → Italian sentences) words the fixed ones in Italian."""
    sentences = templates.case
    review = templates.case_review
    populations = _CONTEXT_POPULATIONS.get(str(assessment.get("context")), ())
    out: list[Evidence] = []

    def add(
        key: str,
        text: str,
        citations: Sequence[str],
        topics: tuple[str, ...],
        drugs: tuple[str, ...] = (),
        plain: str | None = "",
    ) -> None:
        out.append(
            Evidence(
                id=f"case:{key}",
                kind="case",
                text=text,
                plain=text if plain == "" else plain,
                citations=tuple(citations) or (CASE_FORMAT_SOURCE,),
                locator=f"assessment of {assessment.get('case_id')} on {assessment.get('assessed_on')}",
                topics=topics,
                populations=populations,
                drugs=drugs,
                review=review,
                origin="case",
            )
        )

    for i, d in enumerate(assessment.get("decisions", [])):
        text = sentences["decision"].format(
            decision=d["id"],
            outcome=_OUTCOME_WORDING.get(d["outcome"], d["outcome"]),
            reasons=" ".join(d.get("reasons", [])),
        )
        # A patient reads the decision without the engine's reasons (profile keys, rule ids).
        plain = sentences["decision"].format(
            decision=d["id"].replace("-", " "),
            outcome=_OUTCOME_WORDING.get(d["outcome"], d["outcome"]),
            reasons="",
        )
        add(
            f"decision-{i}",
            text.strip(),
            d.get("citations", []),
            _DECISION_TOPICS.get(d["id"], ("treatment",)),
            plain=plain.strip(),
        )
    for i, r in enumerate(assessment.get("regimens", [])):
        if r.get("dose_mg") is not None:
            dose = f"{number(Decimal(str(r['dose_mg'])))} mg"
        elif r.get("dose_mg_per_kg") is not None:
            dose = f"{number(Decimal(str(r['dose_mg_per_kg'])))} mg/kg"
        else:
            dose = "dose to be set"
        schedule = r.get("schedule") or (
            f"every {number(Decimal(str(r['every_h'])))} h" if r.get("every_h") else ""
        )
        period = ""
        if r.get("start"):
            period += f" from {r['start']}"
        if r.get("stop"):
            period += f" to {r['stop']}"
        stop_rule = f" ({r['stop_rule']})" if r.get("stop_rule") else ""
        text = sentences["regimen"].format(
            drug=r["drug"],
            dose=dose,
            schedule=schedule,
            route=r.get("route", ""),
            period=period,
            stop_rule=stop_rule,
        )
        add(
            f"regimen-{i}",
            text,
            r.get("citations", []),
            ("dose", "treatment", "duration"),
            (r["drug"],),
        )
    first: dict[str, list[Mapping[str, Any]]] = {}
    for item in assessment.get("schedule", []):
        first.setdefault(item["event"], []).append(item)
    for event, items in first.items():
        dates = [i["earliest"] for i in items]
        when = (
            f"earliest {dates[0]}"
            if len(dates) == 1
            else f"{len(dates)} times, first {dates[0]}, last {dates[-1]}"
        )
        if items[0].get("latest"):
            when += f", latest {items[0]['latest']}"
        text = sentences["schedule"].format(event=event.replace("-", " "), when=when)
        add(
            f"schedule-{event}",
            text,
            items[0].get("citations", []),
            ("timing", "monitoring", "diagnosis"),
        )
    # Critical alerts first (review11 M3: four "not yet verified" warnings came before a 14x
    # overdose); a dose alert is about the dose (S4: "Is the valganciclovir dose right?" showed
    # none).
    alerts = [a for a in assessment.get("alerts", []) if a.get("severity") != "info"]
    alerts.sort(key=lambda a: a.get("severity") != "critical")
    urgent_citations: list[str] = []
    urgent = dose_urgent = False
    for i, a in enumerate(alerts):
        text = sentences["alert"].format(severity=a["severity"], message=a["message"])
        # "Not yet verified against its primary source: reference-profile value …" is for the
        # clinician checking the knowledge, not for a patient.
        provenance = str(a["message"]).startswith("Not yet verified")
        about_dose = str(a.get("code", "")).startswith("dose")
        add(
            f"alert-{i}",
            text,
            a.get("citations", []),
            ("dose", "monitoring", "toxicity") if about_dose else ("monitoring", "toxicity"),
            plain=None if provenance else "",
        )
        if a.get("severity") == "critical":
            out[-1] = replace(out[-1], urgent=True)
            urgent_citations += [c for c in a.get("citations", []) if c not in urgent_citations]
            urgent = True
            dose_urgent = dose_urgent or about_dose
    if urgent:
        # A patient reads no alert wording (it states doses) but is told to call now.
        line = sentences["alert_contact_dose" if dose_urgent else "alert_contact"]
        said = (italian or {}).get(line)
        add("alert-contact", line, urgent_citations, ("dose", "monitoring", "toxicity", "treatment"))
        out[-1] = replace(
            out[-1],
            urgent=True,
            text_it=said,
            plain_it=said,
            italian="translated" if said else None,
        )
    for i, m in enumerate(assessment.get("missing", [])):
        text = sentences["missing"].format(item=m["item"], why=m["why"])
        # A patient reads why the datum is needed, never the engine's key
        # ("therapy:valganciclovir.indication").
        plain = sentences["missing_plain"].format(why=m["why"])
        add(f"missing-{i}", text, [], ("eligibility",), plain=plain)
    return out
