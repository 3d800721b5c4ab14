"""``recommend_dose``: a labelled regimen for one patient, drug and indication, or the reason not.

The steps, each recorded in ``reasons`` for the pharmacist:

1. the label rows of the drug for the indication and region (``--regimen``/``--route`` choose
   among alternatives); no row → ``not_indicated``; a drug on the patient's intolerance list, or
   one its label says cross-reacts with a drug on it → ``specialist_review`` with a
   ``drug-intolerance`` alert (``intolerance``; never dosed, in every pathway);
2. the row for this patient's population (organ, age, weight, sex); none → ``specialist_review``
   (outside the label), ``not_indicated`` (a regimen for the other sex: pregnancy), or
   ``insufficient_data`` naming what is missing; then the exclusions of the protocol the row
   names (the AIFA 648/96 rule A7 for the valacyclovir pregnancy regimen, applied by the pregnancy
   pathway's own function) → ``excluded``;
3. the renal function the row is keyed on (Cockcroft-Gault CrCl, foscarnet's CrCl per kg, or the
   valganciclovir label's Schwartz), computed exactly;
4. the drug's checks (contraindications, hematologic limits) and interactions;
5. the band and its dose (mg/kg × weight; the pediatric formula with its caps and rounding), the
   formulation volume, and the ``then`` phase.

Nothing is guessed: a missing input is a ``Missing`` item and the outcome ``insufficient_data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from cmvcds.domain.memo import per_subject
from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome, Severity
from cmvcds.engine.dosing.interactions import active_interactions, interaction_message
from cmvcds.engine.dosing.intolerance import intolerances_barring
from cmvcds.engine.dosing.patient import DosePatient
from cmvcds.engine.dosing.protocol import protocol_exclusions
from cmvcds.engine.dosing.result import DoseRegimen, DoseResult, RenalResult, schedule_wording
from cmvcds.engine.frozen import frozen
from cmvcds.engine.renal import (
    Clearance,
    WeightBasis,
    cockcroft_gault,
    cockcroft_gault_per_kg,
    ideal_weight_kg,
    measured_per_kg,
    mosteller_bsa,
    schwartz_label,
    schwartz_label_k,
)
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.base import Fact
from cmvcds.knowledge.schemas.core import PlausibilityLimits, Vocabularies
from cmvcds.knowledge.schemas.drugs import (
    Band,
    Check,
    DosingPolicy,
    DrugLabel,
    Formulation,
    Interaction,
    PediatricFormula,
    RegimenRow,
    RenalFormulas,
)

__all__ = ["drug_label", "drugs_available", "recommend_dose"]

_REGIONS = ("us", "eu")

#: The case item a clinician supplies for each measure a check needs.
_ITEMS = {
    "creatinine_mg_dl": "creatinine",
    "urine_protein_mg_dl": "urine_protein",
    "anc_per_ul": "anc",
    "platelets_per_ul": "platelets",
    "hemoglobin_g_dl": "hemoglobin",
}


#: The renal inputs as a clearance names them, and as ``_not_used`` names them.
_INPUT_NAMES = {"measured CrCl": "crcl_measured"}

#: Each label check's measure and the input it reads.
_CHECKED_INPUTS = (
    ("creatinine_mg_dl", "creatinine"),
    ("anc_per_ul", "anc"),
    ("platelets_per_ul", "platelets"),
    ("hemoglobin_g_dl", "hemoglobin"),
    ("urine_protein_mg_dl", "urine_protein"),
    ("dialysis", "dialysis"),
)

#: Why a regimen did not read an input, for the inputs whose reason is not renal.
_NOT_READ = {
    "height": "no body-surface, Schwartz or ideal-weight formula applies to this regimen",
    "dialysis": "the regimen's source gives no dose by dialysis: ask a specialist",
    "anc": "no blood-count limit of the label applies to this drug and indication",
    "platelets": "no blood-count limit of the label applies to this drug and indication",
    "hemoglobin": "no blood-count limit of the label applies to this drug and indication",
    "urine_protein": "no urine-protein limit of the label applies to this drug and indication",
}


def drugs_available(knowledge: Knowledge) -> tuple[str, ...]:
    """The drugs the knowledge pack can dose (lowercase INN)."""
    return tuple(sorted(n.removeprefix("drug_") for n in knowledge.tables if n.startswith("drug_")))


def drug_label(knowledge: Knowledge, drug: str) -> DrugLabel:
    """The label rows of ``drug``; an unknown drug is an input error listing the known ones."""
    drug = knowledge.table("vocabularies", Vocabularies).canonical_drug(drug)  # probe13 N2
    try:
        value = knowledge.tables[f"drug_{drug}"]
    except KeyError:
        known = ", ".join(drugs_available(knowledge))
        raise InputError(
            f"no dosing table for drug {drug!r} (known: {known})", field="drug"
        ) from None
    if not isinstance(value, DrugLabel):
        raise InputError(f"table drug_{drug} is not a drug label", field="drug")
    return value


@per_subject
def recommend_dose(
    patient: DosePatient,
    drug: str,
    indication: Indication | str,
    knowledge: Knowledge,
    *,
    regimen: str | None = None,
    route: str | None = None,
    region: str = "us",
    weight_basis: WeightBasis = "actual",
) -> DoseResult:
    """The labelled dose of ``drug`` for ``indication`` in this patient (see the module docstring).

    ``regimen`` names a label alternative (foscarnet ``60-q8h`` or ``90-q12h``), ``route`` a route
    (``oral``/``iv``), ``region`` the label (``us`` default, ``eu`` SmPC). ``weight_basis`` other
    than ``actual`` is an institutional policy for Cockcroft-Gault, named in the output.
    Raises ``InputError`` for an unknown drug, indication, region, regimen name or route.
    The answers for one patient are remembered (``per_subject``): the pathways of one assessment
    ask for the same dose several times (the regimen, the dose check, the toxicity rules).
    """
    indication = _indication(indication)
    if region not in _REGIONS:
        raise InputError(f"unknown region {region!r} (us or eu)", field="region")
    label = drug_label(knowledge, drug)
    work = _Work(
        label=label,
        patient=patient,
        indication=indication,
        region=region,
        knowledge=knowledge,
        formulas=knowledge.derived(_renal_formulas),
        policy=knowledge.derived(dosing_policy),
        weight_basis=weight_basis,
    )
    return work.run(regimen, route)


def _percent(ratio: Decimal) -> str:
    """``ratio`` as a whole percentage (0.113 → 11)."""
    return format((ratio * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP), "f")


def _renal_formulas(knowledge: Knowledge) -> RenalFormulas:
    """The pack's renal formulas, checked once per pack (``Knowledge.derived``)."""
    return knowledge.table("renal_formulas", RenalFormulas)


def dosing_policy(knowledge: Knowledge) -> DosingPolicy:
    """The pack's dosing policy, checked once per pack (``Knowledge.derived``)."""
    return knowledge.table("dosing_policy", DosingPolicy)


def _indication(value: Indication | str) -> Indication:
    if isinstance(value, Indication):  # the pathways pass the member: no Enum look-up
        return value
    try:
        return Indication(value)
    except ValueError:
        known = ", ".join(i.value for i in Indication)
        raise InputError(
            f"unknown indication {value!r} (known: {known})", field="indication"
        ) from None


@dataclass
class _Work:
    """One recommendation in progress: the evidence gathered so far."""

    label: DrugLabel
    patient: DosePatient
    indication: Indication
    region: str
    knowledge: Knowledge
    formulas: RenalFormulas
    policy: DosingPolicy
    weight_basis: WeightBasis
    collected: PathwayResult = field(default_factory=PathwayResult)
    citations: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    renal: RenalResult | None = None
    #: probe11 S4: which renal measure the dose used, said when the patient gave more than one
    renal_basis: str | None = None
    #: review12 S1: a reported eGFR was compared with the measured clearance (so it was read)
    egfr_compared: bool = False
    row: RegimenRow | None = None
    checks: _ActiveChecks | None = None
    interactions: list[Interaction] | None = None
    not_for_patient: list[str] = field(default_factory=list)

    # -- bookkeeping -------------------------------------------------------------------------

    def cite(self, fact: Fact, what: str) -> None:
        """Record ``fact``'s sources; an unverified fact also raises the ``unverified-fact`` alert."""
        sources = fact.citations if fact.verified else self.collected.cite(fact, what)
        for source in sources:
            if source not in self.citations:
                self.citations.append(source)

    def alert(self, code: str, severity: str, message: str, citations: tuple[str, ...]) -> None:
        alert = Alert(AlertCode(code), Severity(severity), message, citations)
        if alert not in self.collected.alerts:
            self.collected.alerts.append(alert)

    def need(self, item: str, why: str) -> None:
        missing = Missing(item, why)
        if missing not in self.collected.missing:
            self.collected.missing.append(missing)

    def result(self, outcome: Outcome, regimen: DoseRegimen | None = None) -> DoseResult:
        not_used = self._not_used() if outcome is Outcome.RECOMMENDED else ()
        return frozen(
            DoseResult,
            outcome=outcome,
            drug=self.label.drug,
            indication=self.indication,
            renal=self.renal,
            regimen=regimen if outcome is Outcome.RECOMMENDED else None,
            alerts=tuple(self.collected.alerts),
            citations=tuple(self.citations),
            reasons=tuple(self.reasons),
            missing=tuple(self.collected.missing) if outcome is Outcome.INSUFFICIENT_DATA else (),
            region=self.region,
            regimen_id=self.row.id if self.row else None,
            inputs_not_used=not_used,
            renal_basis=self.renal_basis if outcome is Outcome.RECOMMENDED else None,
        )

    def _not_used(self) -> tuple[tuple[str, str], ...]:
        """The renal and laboratory inputs given that the chosen regimen never read, each with why
        (issue 14 outside probe: a congenital dose silently ignored creatinine and height).

        Read means: an input of the renal function the dose was chosen on (its formula's inputs;
        height also for the ideal-weight note of Cockcroft-Gault), of the protocol's exclusions,
        of a label check of this drug and indication, or the dialysis mode of a band or check.
        Judged only on a recommended dose (an earlier stop has not reached every step)."""
        p, row = self.patient, self.row
        assert row is not None
        given = [
            name
            for name, present in (
                ("creatinine", p.creatinine_mg_dl is not None),
                ("egfr", p.egfr_ml_min_173 is not None),
                ("crcl_measured", p.measured_crcl_ml_min is not None),
                ("height", p.height_cm is not None),
                ("dialysis", p.dialysis != "none"),
                ("anc", p.anc_per_ul is not None),
                ("platelets", p.platelets_per_ul is not None),
                ("hemoglobin", p.hemoglobin_g_dl is not None),
                (
                    "urine_protein",
                    p.urine_protein_mg_dl is not None or bool(p.urine_protein_dipstick),
                ),
            )
            if present
        ]
        if not given:
            return ()
        used: set[str] = set()
        if self.renal is not None:
            used.update(_INPUT_NAMES.get(k, k) for k in self.renal.clearance.inputs)
            if self.renal.clearance.method == "cockcroft-gault":
                used.add("height")
        if row.protocol_exclusions is not None:
            used |= {"creatinine", "egfr", "crcl_measured"}
        if row.protocol_exclusions == "congenital_trial":
            used.add("height")  # the infant's label Schwartz (engine/congenital_renal.py)
        if self.egfr_compared:
            used.add("egfr")
        measures = self._active_checks().measures
        if self.renal is not None and not measures.isdisjoint(("crcl_ml_min", "crcl_ml_min_kg")):
            used |= {"creatinine", "crcl_measured", "height"}
        used.update(name for measure, name in _CHECKED_INPUTS if measure in measures)
        if self.renal is not None or any(b.dialysis for b in row.bands) or row.formula:
            used.add("dialysis")
        if row.formula is not None:
            used.add("height")  # body-surface area of the paediatric formula
        unused = [name for name in given if name not in used]
        if not unused:
            return ()
        renal = "the regimen has no renal adjustment in its source"
        if self.renal is not None:
            renal = f"the dose is chosen on {self.renal.clearance.method}"
        elif p.dialysis != "none" and any(b.dialysis for b in row.bands):
            renal = f"the dose follows the label's {p.dialysis} row, not a clearance"
        why = {
            "creatinine": renal,
            "egfr": renal + (" (a reported eGFR is not the label's measure)" if self.renal else ""),
            "crcl_measured": renal,
        }
        return tuple(
            (name, f"not used by {self.label.drug} {row.id}: {why.get(name) or _NOT_READ[name]}")
            for name in unused
        )

    # -- the steps ---------------------------------------------------------------------------

    def run(self, name: str | None, route: str | None) -> DoseResult:
        rows = self._candidates(name, route)
        if not rows:
            self.reasons.append(
                f"The {self.region.upper()} label rows of {self.label.drug} have no regimen for "
                f"{self.indication.value}."
            )
            return self.result(Outcome.NOT_INDICATED)
        if self.patient.intolerances and self._intolerant():
            return self.result(Outcome.SPECIALIST_REVIEW)
        row = self._for_patient(rows)
        if row is None:
            if self.not_for_patient:
                return self.result(Outcome.NOT_INDICATED)
            return self.result(
                Outcome.INSUFFICIENT_DATA if self.collected.missing else Outcome.SPECIALIST_REVIEW
            )
        self.row = row
        texts = self.knowledge.derived(_RowTexts).of(self.label, row)
        self.cite(row, texts.cited_as)
        if row.outcome is not None:
            self.reasons.append(row.reason or "")
            if row.alert:
                self.alert(row.alert, "warning", row.reason or "", row.citations)
            return self.result(Outcome(row.outcome))
        self.reasons.append(texts.regimen)
        if row.protocol_exclusions is not None:
            refusal = self._protocol(row)
            if refusal is not None:
                return self.result(refusal)

        if not self._weight_doubted(row):
            self._renal(row)
        refusal = self._checks()
        refusal = self._interactions() or refusal
        if refusal is Outcome.EXCLUDED:
            return self.result(Outcome.EXCLUDED)
        weight = self._weight_if_needed(row)
        if self.collected.missing:
            return self.result(Outcome.INSUFFICIENT_DATA)
        if refusal is not None:
            return self.result(refusal)
        phase = self._phase(row, weight)
        if isinstance(phase, Outcome):
            return self.result(phase)
        return self.result(Outcome.RECOMMENDED, phase)

    def _candidates(self, name: str | None, route: str | None) -> list[RegimenRow]:
        rows = self.label.rows_for(self.indication.value, self.region)
        if name is not None:
            named = [r for r in rows if r.name == name]
            if not named:
                offered = sorted({r.name for r in rows}) or ["none"]
                raise InputError(
                    f"{self.label.drug} has no regimen {name!r} for {self.indication.value} "
                    f"(offered: {', '.join(offered)})",
                    field="regimen",
                )
            rows = named
        else:
            rows = [r for r in rows if r.preferred] or rows
        if route is not None:
            routed = [r for r in rows if r.route == route]
            if not routed and rows:
                offered = sorted({r.route for r in rows})
                raise InputError(
                    f"{self.label.drug} for {self.indication.value} is not given by route {route!r} "
                    f"(offered: {', '.join(offered)})",
                    field="route",
                )
            rows = routed
        return rows

    def _for_patient(self, rows: list[RegimenRow]) -> RegimenRow | None:
        """The first row whose population includes the patient; else say why none does.

        A row that could apply but lacks an input (age, weight, organ) makes the answer
        ``insufficient_data`` naming it; rows that cannot apply make it ``specialist_review``.
        """
        mismatches: list[str] = []
        outside: list[RegimenRow] = []
        lacking: list[Missing] = []
        other_sex = [r for r in rows if r.sexes and self.patient.sex not in (None, *r.sexes)]
        if other_sex and len(other_sex) == len(rows):
            for row in rows:
                self.cite(row, f"{self.label.drug} regimen {row.id}")
                self.not_for_patient.append(
                    f"{row.description}: for {' or '.join(row.sexes)} patients; "
                    f"this patient is {self.patient.sex}"
                )
            self.reasons.append(
                f"Not indicated: no {self.label.drug} regimen for {self.indication.value} applies "
                f"to a {self.patient.sex} patient ({_source(rows[0])}): "
                + " | ".join(self.not_for_patient)
            )
            return None
        rows = [r for r in rows if r not in other_sex]
        for row in rows:
            why, needs = self._population(row)
            if not why and not needs:
                return row
            if why:
                mismatches.append(f"{row.description}: {'; '.join(why)}")
                outside.append(row)
            else:  # one item per input, with the first reason given for it
                for missing in needs:
                    if all(m.item != missing.item for m in lacking):
                        lacking.append(missing)
        if lacking:
            self.collected.missing.extend(m for m in lacking if m not in self.collected.missing)
            return None
        for row in outside:
            self.cite(row, f"{self.label.drug} regimen {row.id}")
        self.reasons.append(
            f"Outside the {self.region.upper()} label of {self.label.drug} for {self.indication.value}: "
            + " | ".join(mismatches)
        )
        self.alert(
            "outside-evidence-base",
            "warning",
            f"No labelled {self.label.drug} regimen for {self.indication.value} covers this patient.",
            tuple(self.citations),
        )
        return None

    def _population(self, row: RegimenRow) -> tuple[list[str], list[Missing]]:
        """Why ``row``'s population excludes the patient, and what is needed to know."""
        p = self.patient
        drug = self.label.drug
        why: list[str] = []
        needs: list[Missing] = []
        if row.organs:
            if p.transplant_organ is None:
                needs.append(
                    Missing(
                        "transplant.organ",
                        f"{drug} {self.indication.value}: the label regimen depends on the transplanted organ",
                    )
                )
            elif p.transplant_organ not in row.organs:
                why.append(f"organ {p.transplant_organ} (row: {', '.join(row.organs)})")
        if row.min_age_years is not None or row.max_age_years is not None:
            if p.age_years is None:
                needs.append(Missing("age", f"{drug}: the label regimen depends on age"))
            else:  # labels state ages in whole years ("up to 16 years" includes 16.9)
                years = int(p.age_years)
                if row.min_age_years is not None and years < row.min_age_years:
                    why.append(f"age {p.age_years} y below {row.min_age_years} y")
                if row.max_age_years is not None and years > row.max_age_years:
                    why.append(f"age {p.age_years} y above {row.max_age_years} y")
        if row.min_age_months is not None:
            months = p.whole_months
            if months is None:
                needs.append(
                    Missing(
                        "age",
                        f"{drug}: the label regimen starts at {row.min_age_months} months of age",
                    )
                )
            elif months < row.min_age_months:
                why.append(f"age {months} months below {row.min_age_months} months")
        if row.max_age_months is not None:
            months = p.whole_months
            if months is None:
                needs.append(
                    Missing(
                        "age",
                        f"{drug}: the regimen is for infants up to {row.max_age_months} months of age",
                    )
                )
            elif months > row.max_age_months:
                shown = f"{months} months"
                if p.age_years is not None and p.age_years >= 1:
                    shown = f"{p.age_years} y ({shown})"
                why.append(f"age {shown} above {row.max_age_months} months")
        if row.sexes and p.sex is None:
            needs.append(
                Missing("sex", f"{drug}: the regimen is for {' or '.join(row.sexes)} patients")
            )
        if row.min_weight_kg is not None:
            if p.weight_kg is None:
                needs.append(
                    Missing("weight", f"{drug}: the label regimen starts at {row.min_weight_kg} kg")
                )
            elif p.weight_kg < row.min_weight_kg:
                why.append(f"weight {p.weight_kg} kg below {row.min_weight_kg} kg")
        return why, needs

    # -- protocol exclusions -----------------------------------------------------------------

    def _protocol(self, row: RegimenRow) -> Outcome | None:
        """The exclusions of the protocol ``row`` names: ``excluded``, ``insufficient_data`` or None."""
        assert row.protocol_exclusions is not None
        verdict = protocol_exclusions(
            row.protocol_exclusions, self.patient, self.knowledge, self.collected
        )
        for source in verdict.citations:
            if source not in self.citations:
                self.citations.append(source)
        if verdict.excluded and verdict.review:
            self.reasons.extend(verdict.excluded)
            self.alert("renal-exclusion", "critical", " ".join(verdict.excluded), verdict.citations)
            return Outcome.SPECIALIST_REVIEW
        if verdict.excluded:
            self.reasons.extend(verdict.excluded)
            if verdict.renal:
                self.alert(
                    "renal-exclusion",
                    "critical",
                    "Renal exclusion criterion of the AIFA protocol: " + " ".join(verdict.excluded),
                    verdict.citations,
                )
            return Outcome.EXCLUDED
        if verdict.missing:
            for missing in verdict.missing:
                self.need(missing.item, missing.why)
            return Outcome.INSUFFICIENT_DATA
        self.reasons.extend(verdict.passed)
        return None

    # -- plausibility of the weight and of a computed clearance (probe8 S2, W4) --------------

    def _reads_weight(self, row: RegimenRow) -> bool:
        """Whether ``row``'s dose or renal function is computed from the weight."""
        p = self.patient
        if self.label.weight_based(row.id) or row.formula is not None:
            return True
        return (
            self._renal_needed(row)
            and self.label.renal_measure == "crcl_ml_min"
            and p.measured_crcl_ml_min is None
        )

    def _weight_doubted(self, row: RegimenRow) -> bool:
        """A weight far from the patient's previous weight (``core/plausibility.yaml``
        ``weight_change``) is a typing or unit error until checked: no dose or clearance is
        computed on it; the answer is ``insufficient_data`` naming the weight to check."""
        p = self.patient
        if p.weight_kg is None or p.previous_weight is None or p.weight_date is None:
            return False
        if not self._reads_weight(row):
            return False
        rule = self.knowledge.table("plausibility", PlausibilityLimits).weight_change
        before, kg = p.previous_weight
        days = (p.weight_date - before).days
        if days > rule.within_days or kg <= 0:
            return False
        ratio = p.weight_kg / kg
        highest = 1 + rule.highest_gain_per_30_days * Decimal(max(days, 30)) / 30
        if rule.lowest_ratio <= ratio <= highest:
            return False
        change = "fell" if ratio < 1 else "rose"
        self.cite(rule, "plausible change between two weights")
        message = (
            f"Check the weight: {p.weight_kg} kg on {p.weight_date} {change} to "
            f"{_percent(ratio)} % of {kg} kg weighed {days} days earlier ({before}), beyond the "
            f"plausible change (from {_percent(rule.lowest_ratio)} % to {_percent(highest)} % "
            f"in {days} days): probably a typing or unit error. No {self.label.drug} dose is "
            "computed on it; confirm or correct the weight."
        )
        self.need("weight", message)
        self.alert("implausible-input", "critical", message, rule.citations)
        return True

    def _implausible_clearance(self, ml_min: Fraction, clearance: Clearance, row: RegimenRow) -> None:
        """A computed clearance above the pack's limit (``computed_crcl``): the inputs are named
        and no dose is computed on it (``insufficient_data``: check them) — unless obesity
        explains it (probe11 W3, below)."""
        rule = self.knowledge.table("plausibility", PlausibilityLimits).computed_crcl
        if ml_min <= rule.above_ml_min:
            return
        self.cite(rule, "plausible computed creatinine clearance")
        if self._explained_by_obesity(ml_min, clearance, row, rule.above_ml_min):
            return
        inputs = ", ".join(f"{name} {value}" for name, value in clearance.inputs.items())
        basis = (
            f"{self.weight_basis} body weight"
            if self.weight_basis != "actual"
            else "the actual body weight (label), a stable creatinine"
        )
        message = (
            f"The creatinine clearance computed by {clearance.method} is {float(ml_min):.0f} mL/min ({inputs}; "
            f"assumed: {basis}), above the plausible {rule.above_ml_min} mL/min: an input is "
            "probably wrong (a creatinine in µmol/L entered as mg/dL, a weight in pounds) or the "
            f"formula does not hold for this patient. No {self.label.drug} dose is computed on it: "
            "check the creatinine and the weight, or give a measured 24-h creatinine clearance."
        )
        self.need("creatinine", message)
        self.alert("implausible-input", "critical", message, rule.citations)

    # -- renal function ----------------------------------------------------------------------

    def _renal_needed(self, row: RegimenRow) -> bool:
        if row.formula is not None:
            return True
        if self.patient.dialysis != "none" and any(b.dialysis for b in row.bands):
            return False
        return row.renal_bands or self._active_checks().on_crcl

    def _renal(self, row: RegimenRow) -> None:
        if not self._renal_needed(row):
            return
        optional = not (row.renal_bands or row.formula) and not self._active_checks().crcl_required
        before = len(self.collected.missing)
        self._clearance(row)
        if optional:  # only cautions depend on it: computed when the inputs are there, else skipped
            del self.collected.missing[before:]

    def _clearance(self, row: RegimenRow) -> None:
        if row.formula is not None:
            self._schwartz(row.formula)
            return
        p = self.patient
        measure = self.label.renal_measure
        if p.measured_crcl_ml_min is not None:
            if measure == "crcl_ml_min_kg":
                if p.weight_kg is None:
                    self.need("weight", "the measured CrCl must be divided by weight (mL/min/kg)")
                    return
                clearance = measured_per_kg(
                    crcl_ml_min=p.measured_crcl_ml_min,
                    weight_kg=p.weight_kg,
                    citations=self.label.citations,
                )
                self.renal = RenalResult(clearance, crcl_ml_min=Fraction(p.measured_crcl_ml_min))
            else:
                clearance = Clearance(
                    value=Fraction(p.measured_crcl_ml_min),
                    unit="mL/min",
                    method="measured-24h",
                    formula="measured 24-h urine creatinine clearance",
                    inputs={"measured CrCl": f"{p.measured_crcl_ml_min} mL/min"},
                    citations=self.label.citations,
                )
                self.renal = RenalResult(clearance)
            self._contradicted_by_creatinine(row)
            return
        why = f"{self.label.drug} is dosed on Cockcroft-Gault creatinine clearance (label)"
        if p.creatinine_mg_dl is None:
            extra = (
                "; a reported eGFR is not the label's measure"
                if p.egfr_ml_min_173 is not None
                else ""
            )
            self.need("creatinine", why + extra)
        if p.age_years is None:
            self.need("age", why)
        if p.sex is None:
            self.need("sex", why)
        if measure == "crcl_ml_min" and p.weight_kg is None:
            self.need("weight", why)
        if self.weight_basis != "actual" and p.height_cm is None:
            self.need("height", f"the {self.weight_basis} body weight policy needs height")
        if self.collected.missing:
            return
        assert p.creatinine_mg_dl is not None and p.age_years is not None and p.sex is not None
        if measure == "crcl_ml_min_kg":
            clearance = cockcroft_gault_per_kg(
                self.formulas, age_years=p.age_years, creatinine_mg_dl=p.creatinine_mg_dl, sex=p.sex
            )
            ml_min = clearance.value * Fraction(p.weight_kg) if p.weight_kg is not None else None
            self.renal = RenalResult(clearance, crcl_ml_min=ml_min)
            if ml_min is not None:
                self._implausible_clearance(ml_min, clearance, row)
        else:
            assert p.weight_kg is not None
            clearance = cockcroft_gault(
                self.formulas,
                age_years=p.age_years,
                weight_kg=p.weight_kg,
                creatinine_mg_dl=p.creatinine_mg_dl,
                sex=p.sex,
                weight_basis=self.weight_basis,
                height_cm=p.height_cm,
            )
            clearance = self._obesity_note(clearance)
            self.renal = RenalResult(clearance)
            self._implausible_clearance(clearance.value, clearance, row)
        self.cite(self.formulas.cockcroft_gault, "Cockcroft-Gault formula")

    def _explained_by_obesity(
        self, ml_min: Fraction, clearance: Clearance, row: RegimenRow, limit: Decimal
    ) -> bool:
        """probe11 W3: a Cockcroft-Gault clearance on the actual weight above the plausible limit
        is not an input error when the patient is obese (actual weight above the pack's obesity
        ratio × ideal weight) and the same formula on the adjusted body weight is within the
        limit. The dose is then given when both values give the same dose (every band above a
        cut-off printing one dose, e.g. valganciclovir CrCl ≥ 60); when they give different doses
        the weight basis is the prescriber's choice (``weight_basis``), named as missing.
        """
        p = self.patient
        if self.weight_basis != "actual" or p.age_years is None or p.creatinine_mg_dl is None:
            return False
        ibw = self._ideal_weight_if_obese()
        if ibw is None:
            return False
        assert p.height_cm is not None and p.weight_kg is not None and p.sex is not None
        ratio = self.formulas.ibw_devine.obesity_ratio
        # review12 S3: a weight in pounds looks obese too; only a weight plausible for the height
        # (BMI at most the pack's limit) is explained by obesity, else the refusal stands.
        bmi = Fraction(p.weight_kg) / (Fraction(p.height_cm) / 100) ** 2
        bmi_max = self.knowledge.table("plausibility", PlausibilityLimits).computed_crcl.obese_bmi_max
        if bmi > Fraction(bmi_max):
            self.reasons.append(
                f"The weight {p.weight_kg} kg at {p.height_cm} cm is a body-mass index of "
                f"{float(bmi):.1f} kg/m², above {bmi_max}: obesity is not taken to explain "
                "the clearance (a weight in pounds?)."
            )
            return False
        adjusted = cockcroft_gault(
            self.formulas,
            age_years=p.age_years,
            weight_kg=p.weight_kg,
            creatinine_mg_dl=p.creatinine_mg_dl,
            sex=p.sex,
            weight_basis="adjusted",
            height_cm=p.height_cm,
        )
        if adjusted.value > limit:
            return False
        chosen = clearance.value
        other = (
            adjusted.value
            if clearance.unit == "mL/min"
            else clearance.value  # per kg: the weight drops out of the band
        )
        differ = self._renal_differences(row, chosen, other)
        basis = (
            f"Cockcroft-Gault {float(ml_min):.0f} mL/min on the actual weight {p.weight_kg} kg "
            f"(above {limit} mL/min) is explained by obesity (more than {ratio} × the ideal "
            f"body weight {ibw:.1f} kg): on the adjusted body weight it is "
            f"{adjusted.rounded(1)} mL/min"
        )
        if differ:
            message = (
                f"{basis}, and the two give different {self.label.drug} doses "
                f"({'; '.join(differ)}): the label uses body weight; choose the weight basis "
                "(actual, ideal or adjusted: weight_basis) for this patient."
            )
            self.need("weight_basis", message)
            self.alert("boundary-case", "warning", message, self.label.citations)
            return True
        self.renal_basis = (
            f"{basis}; both give the same {self.label.drug} dose (the label uses body weight)"
        )
        return True

    def _contradicted_by_creatinine(self, row: RegimenRow) -> None:
        """probe11 S4: a measured 24-h CrCl and the Cockcroft-Gault estimate from a creatinine
        given beside it that fall in different dose bands (or on different sides of a label
        check on clearance) contradict each other for this dose: neither is used silently. The
        answer is ``insufficient_data`` naming both, with a critical ``contradictory-input``
        alert (the dose on each is said). Measures that give the same dose are not a conflict:
        the measured value is used and the output says so (``renal_basis``).

        review12 S1: a reported eGFR beside the measured value is compared the same way (it is
        not the label's measure, but an eGFR in another band is a contradiction signal); when
        Cockcroft-Gault cannot be computed for an adult (weight, sex or age missing) and no
        eGFR is there to compare, the measured value is not used silently beside the creatinine:
        the missing input is asked for (``insufficient_data``), naming why.
        """
        p = self.patient
        measured = self.renal
        if measured is None or (p.creatinine_mg_dl is None and p.egfr_ml_min_173 is None):
            return
        unit = measured.clearance.unit
        places = 3 if unit == "mL/min/kg" else 1
        dates = {o.code: o.date for o in p.renal_observations}

        def on(code: str) -> str:
            return f" on {dates[code]}" if code in dates else ""

        others: list[tuple[str, str, Fraction]] = []  # (name, how it is said, value)
        not_compared = ""
        lacking: list[str] = []
        if p.creatinine_mg_dl is not None:
            if p.age_years is not None and p.age_years < 18:  # Cockcroft-Gault is an adult formula
                not_compared = (
                    f"creatinine {p.creatinine_mg_dl} mg/dL not compared: Cockcroft-Gault is an "
                    "adult formula"
                )
            else:
                lacking = [
                    item
                    for item, absent in (
                        ("age", p.age_years is None),
                        ("sex", p.sex is None),
                        (
                            "weight",
                            self.label.renal_measure != "crcl_ml_min_kg" and p.weight_kg is None,
                        ),
                        (
                            "height",
                            self.label.renal_measure != "crcl_ml_min_kg"
                            and self.weight_basis != "actual"
                            and p.height_cm is None,
                        ),
                    )
                    if absent
                ]
                if lacking:
                    not_compared = (
                        f"creatinine {p.creatinine_mg_dl} mg/dL not compared: Cockcroft-Gault "
                        f"needs {', '.join(lacking)}"
                    )
                else:
                    estimate = self._cockcroft_gault_beside()
                    self.cite(self.formulas.cockcroft_gault, "Cockcroft-Gault formula")
                    others.append(
                        (
                            "Cockcroft-Gault",
                            f"the Cockcroft-Gault estimate {estimate.rounded(places)} {unit} "
                            f"from creatinine {p.creatinine_mg_dl} mg/dL{on('creatinine')}",
                            estimate.value,
                        )
                    )
        if p.egfr_ml_min_173 is not None:
            egfr = Fraction(p.egfr_ml_min_173)
            if unit == "mL/min/kg":
                assert p.weight_kg is not None  # the measured value was divided by it
                egfr = egfr / Fraction(p.weight_kg)
                text = f"{float(egfr):.3f} mL/min/kg (÷ {p.weight_kg} kg)"
            else:
                text = f"{float(egfr):.1f} mL/min"
            others.append(
                (
                    "eGFR",
                    f"the reported eGFR {p.egfr_ml_min_173} mL/min/1.73 m²{on('egfr')} "
                    f"({text}; not the label's measure, compared as a check)",
                    egfr,
                )
            )
            self.egfr_compared = True
        measured_text = (
            f"the measured 24-h creatinine clearance {measured.clearance.rounded(places)} {unit}"
        )
        if not others:
            if lacking:
                message = (
                    f"The{measured_text[3:]}{on('creatinine_clearance_24h')} is not "
                    f"used beside the creatinine {p.creatinine_mg_dl} mg/dL"
                    f"{on('creatinine')}: the two are not compared ({not_compared}), and a "
                    "creatinine that gives another dose band would contradict it. Give "
                    f"{', '.join(lacking)} (or a reported eGFR) so they can be compared."
                )
                for item in lacking:
                    self.need(item, message)
                self.renal = None
            elif not_compared:
                self.renal_basis = f"the measured 24-h creatinine clearance ({not_compared})"
            return
        differ: list[str] = []
        for name, _, value in others:
            found = self._renal_differences(row, measured.value, value)
            differ += [f"{d} ({name})" if len(others) > 1 else d for d in found]
        if not differ:
            compared = " and ".join(text for _, text, _ in others)
            self.renal_basis = (
                f"{measured_text}; {compared} give{'s' if len(others) == 1 else ''} the same dose"
                + (f" ({not_compared})" if not_compared else "")
            )
            return
        message = (
            f"Contradictory renal function: {measured_text}{on('creatinine_clearance_24h')} "
            f"and {' and '.join(text for _, text, _ in others)} give different "
            f"{self.label.drug} doses ({'; '.join(differ)}). No dose is chosen on either: "
            "confirm which holds (a creatinine not at steady state, an incomplete urine "
            "collection) and give that one."
        )
        self.need("renal_function", message)
        self.alert("contradictory-input", "critical", message, self.label.citations)
        self.renal = None

    def _cockcroft_gault_beside(self) -> Clearance:
        """Cockcroft-Gault on the patient's inputs (all present), in the label's measure."""
        p = self.patient
        assert p.creatinine_mg_dl is not None and p.age_years is not None and p.sex is not None
        if self.label.renal_measure == "crcl_ml_min_kg":
            return cockcroft_gault_per_kg(
                self.formulas, age_years=p.age_years, creatinine_mg_dl=p.creatinine_mg_dl, sex=p.sex
            )
        assert p.weight_kg is not None
        return cockcroft_gault(
            self.formulas,
            age_years=p.age_years,
            weight_kg=p.weight_kg,
            creatinine_mg_dl=p.creatinine_mg_dl,
            sex=p.sex,
            weight_basis=self.weight_basis,
            height_cm=p.height_cm,
        )

    def _renal_differences(self, row: RegimenRow, a: Fraction, b: Fraction) -> list[str]:
        """What differs between two renal values for ``row`` (and the phase after it): the band
        each falls in, and each label check on clearance that one value meets and the other not."""
        differ: list[str] = []
        rows = [row]
        if row.then is not None:
            rows.append(self.label.regimen(row.then))
        for r in rows:
            if not r.renal_bands:
                continue
            bands = [band for band in r.bands if not band.dialysis]
            first = next((band for band in bands if band.contains(a)), None)
            second = next((band for band in bands if band.contains(b)), None)
            if first is not second and first is not None and second is not None:
                differ.append(
                    f"{r.id}: {_band_dose(first)} on the measured value against "
                    f"{_band_dose(second)} on the estimate"
                )
        unit = "crcl_ml_min_kg" if self.label.renal_measure == "crcl_ml_min_kg" else "crcl_ml_min"
        for check in self._active_checks().checks:
            if check.measure == unit and check.contains(a) != check.contains(b):
                differ.append(f"{check.id}: met by one value only")
        return differ

    def _ideal_weight_if_obese(self) -> float | None:
        """The Devine ideal body weight when the actual weight is above the pack's obesity ratio
        × it (``renal_formulas.ibw_devine.obesity_ratio``), else None (not obese, or height,
        weight or sex not given). One test for the clearance note, the obesity explanation of a
        high clearance (probe11 W3) and the per-kg dose note (probe11 U3)."""
        p = self.patient
        if p.height_cm is None or p.weight_kg is None or p.sex is None:
            return None
        ibw = ideal_weight_kg(self.formulas, height_cm=p.height_cm, sex=p.sex)
        ratio = self.formulas.ibw_devine.obesity_ratio
        return ibw if ibw > 0 and float(p.weight_kg) > float(ratio) * ibw else None

    def _obesity_note(self, clearance: Clearance) -> Clearance:
        p = self.patient
        ibw = None if self.weight_basis != "actual" else self._ideal_weight_if_obese()
        ratio = self.formulas.ibw_devine.obesity_ratio
        if ibw is not None:  # a note, not a decision
            note = (
                f"actual weight {p.weight_kg} kg is more than {ratio} × the ideal body weight "
                f"({ibw:.1f} kg): the label uses body weight; an ideal or adjusted weight is an "
                "institutional choice (weight_basis)"
            )
            return replace(clearance, notes=(*clearance.notes, note))
        return clearance

    def _schwartz(self, formula: PediatricFormula) -> None:
        p = self.patient
        why = "the pediatric dose is 7 × BSA × CrCl (label Schwartz)"
        for item, value in (
            ("height", p.height_cm),
            ("weight", p.weight_kg),
            ("creatinine", p.creatinine_mg_dl),
            ("age", p.age_years),
        ):
            if value is None:
                self.need(item, why)
        if p.age_years is None:
            return
        years = int(p.age_years)
        if years < 1 and p.birth_weight_for_gestational_age is None:
            self.need(
                "patient.birth_weight_for_gestational_age",
                "the label's Schwartz constant under 1 year depends on birth weight for gestational age (0.33 low, 0.45 appropriate)",
            )
        if years >= 2 and p.sex is None:
            self.need("sex", "the label's Schwartz constant from 2 years depends on sex")
        if self.collected.missing:
            return
        k = schwartz_label_k(
            self.formulas,
            age_years=years,
            sex=p.sex,
            birth_weight_for_gestational_age=p.birth_weight_for_gestational_age,
        )
        if k is None:
            self.reasons.append(f"No Schwartz constant in the label table for age {years} y.")
            return
        assert p.height_cm is not None and p.creatinine_mg_dl is not None
        self.cite(k, f"label Schwartz constant k = {k.k}")
        clearance = schwartz_label(
            self.formulas,
            k=k,
            height_cm=p.height_cm,
            creatinine_mg_dl=p.creatinine_mg_dl,
            cap=formula.crcl_cap_ml_min_173,
        )
        self.renal = RenalResult(clearance)

    # -- checks and interactions -------------------------------------------------------------

    def _active_checks(self) -> _ActiveChecks:
        if self.checks is None:
            route = self.row.route if self.row else None
            self.checks = self.knowledge.derived(_LabelChecks).of(
                self.label, self.region, route, self.indication.value
            )
        return self.checks

    def _measure(self, check: Check) -> Fraction | None:
        p = self.patient
        if check.measure in ("crcl_ml_min", "crcl_ml_min_kg"):
            if self.renal is None:
                return None
            unit = "mL/min" if check.measure == "crcl_ml_min" else "mL/min/kg"
            if self.renal.clearance.unit == unit:
                return self.renal.value
            return self.renal.crcl_ml_min if unit == "mL/min" else None
        if (
            check.measure == "urine_protein_mg_dl"
            and p.urine_protein_mg_dl is None
            and p.urine_protein_dipstick
        ):
            mapped = self.policy.dipstick_mg_dl.get(p.urine_protein_dipstick)
            return _exact(mapped) if mapped is not None else None
        value = {
            "creatinine_mg_dl": p.creatinine_mg_dl,
            "urine_protein_mg_dl": p.urine_protein_mg_dl,
            "anc_per_ul": p.anc_per_ul,
            "platelets_per_ul": p.platelets_per_ul,
            "hemoglobin_g_dl": p.hemoglobin_g_dl,
        }.get(check.measure)
        return _exact(value) if value is not None else None

    def _checks(self) -> Outcome | None:
        outcome: Outcome | None = None
        for check in self._active_checks().checks:
            if check.measure == "dialysis":
                fired = self.patient.dialysis in check.dialysis
            elif check.measure == "child_pugh":
                fired = self.patient.child_pugh in check.child_pugh
            elif check.measure == "pregnancy":
                fired = self.patient.pregnant
            else:
                value = self._measure(check)
                if value is None:
                    if check.required and not check.measure.startswith("crcl"):
                        self.need(_ITEMS[check.measure], check.message)
                    continue
                fired = check.contains(value)
            if not fired:
                continue
            self.cite(check, f"{self.label.drug} {check.id} limit")
            self.alert(check.alert, check.severity, check.message, check.citations)
            if check.effect == "exclude":
                self.reasons.append(check.message)
                outcome = Outcome.EXCLUDED
            elif check.effect == "review" and outcome is None:
                self.reasons.append(check.message)
                outcome = Outcome.SPECIALIST_REVIEW
        return outcome

    def _intolerant(self) -> bool:
        """A recorded intolerance of the drug, or of a drug its label says cross-reacts with it:
        not dosed, a ``drug-intolerance`` alert naming it (probe9 finding 1)."""
        barring = intolerances_barring(self.label, self.patient.intolerances, self.region)
        for intolerance in barring:
            fact: Fact = intolerance.row if intolerance.row is not None else self.policy
            what = "recorded intolerance" if intolerance.row is None else intolerance.row.id
            self.cite(fact, f"{self.label.drug}: {what}")
            message = intolerance.message(self.policy.intolerance)
            self.reasons.append(message)
            self.alert("drug-intolerance", "critical", message, fact.citations)
        return bool(barring)

    def _interactions(self) -> Outcome | None:
        outcome: Outcome | None = None
        for rule in self._active_interactions():
            self.cite(rule, f"{self.label.drug} interaction {rule.id}")
            message = interaction_message(rule, self.patient)
            self.alert("drug-interaction", rule.severity, message, rule.citations)
            if rule.effect == "exclude":
                self.reasons.append(message)
                outcome = Outcome.EXCLUDED
        return outcome

    def _active_interactions(self) -> list[Interaction]:
        """The interaction rules this patient's co-medications trigger (computed once)."""
        if self.interactions is None:
            self.interactions = active_interactions(self.label, self.patient, self.region)
        return self.interactions

    def _dose_override(self) -> Interaction | None:
        return next((rule for rule in self._active_interactions() if rule.effect == "dose"), None)

    # -- the dose ----------------------------------------------------------------------------

    def _weight_if_needed(self, row: RegimenRow) -> Decimal | None:
        p = self.patient
        if self.label.weight_based(row.id) and p.weight_kg is None:
            self.need(
                "weight", f"{self.label.drug} {self.indication.value} is dosed by body weight"
            )
        elif (
            self.label.weight_based(row.id)
            and row.formula is None
            and (p.age_years is None or p.age_years >= 18)
        ):
            # probe11 U3: a per-kg dose on an obese patient's actual weight is said, as the
            # Cockcroft-Gault note says it for the clearance (the label doses on body weight)
            ibw = self._ideal_weight_if_obese()
            ratio = self.formulas.ibw_devine.obesity_ratio
            if ibw is not None:
                self.cite(self.formulas.ibw_devine, "ideal body weight (obesity note)")
                self.reasons.append(
                    f"The per-kg dose is on the actual weight {p.weight_kg} kg, more than {ratio} × "
                    f"the ideal body weight ({ibw:.1f} kg): the label doses on body weight; an "
                    "ideal or adjusted weight is an institutional choice (weight_basis)."
                )
        if self.label.weight_based(row.id) and p.weight_kg is not None and p.height_cm is not None:
            self._confirm_weight_unit(p.weight_kg, p.height_cm)
        return p.weight_kg

    def _confirm_weight_unit(self, weight_kg: Decimal, height_cm: Decimal) -> None:
        """A per-kg dose on a body-mass index at WHO class III obesity or above is given, with a
        warning to confirm the weight is in kilograms: a weight in pounds looks like severe
        obesity and gives 2.2 times the dose (review12 S3; the plausibility pack row)."""
        rule = self.knowledge.table("plausibility", PlausibilityLimits).weight_confirmation
        bmi = weight_kg / (height_cm / 100) ** 2
        if bmi < rule.bmi_min:
            return
        self.cite(rule, "weight confirmation (body-mass index)")
        self.alert(
            AlertCode.CONFIRM_WEIGHT_UNIT.value,
            Severity.WARNING.value,
            f"Weight {weight_kg} kg at {height_cm} cm is a body-mass index of {bmi:.1f} (at least "
            f"{rule.bmi_min}): confirm it was measured in kilograms before giving this per-kg "
            "dose (a weight in pounds would give 2.2 times the dose).",
            rule.citations,
        )

    def _band(self, row: RegimenRow) -> Band | Outcome:
        bands = row.bands
        if not row.renal_bands and not any(b.dialysis for b in bands):
            return bands[0]
        dialysis = self.patient.dialysis
        if dialysis != "none":
            for band in bands:
                if dialysis in band.dialysis:
                    return band
            self.reasons.append(
                f"The label gives no {self.label.drug} dose on {dialysis} for this regimen."
            )
            return Outcome.SPECIALIST_REVIEW
        assert self.renal is not None
        value = self.renal.value
        for band in bands:
            if not band.dialysis and band.contains(value):
                self._boundary(row, band, value)
                return band
        raise AssertionError("the bands tile [0, ∞); the loader checks it")

    def _boundary(self, row: RegimenRow, band: Band, value: Fraction) -> None:
        assert self.renal is not None
        unit = self.renal.clearance.unit
        margin = (
            self.policy.boundary_margin_ml_min_kg
            if unit == "mL/min/kg"
            else self.policy.boundary_margin_ml_min
        )
        # proximity is informational (the band itself was chosen exactly): float is enough here
        shown, width = float(value), float(margin)
        near = [e for e, at in self._printed(row, band).edges if abs(shown - at) <= width]
        if near:
            self.cite(self.policy, "boundary-case margin")
            self.alert(
                "boundary-case",
                "info",
                f"{self.renal.clearance.method} {self.renal.clearance.rounded(3)} {unit} lies within {margin} "
                f"of the band edge {near[0]}: a small change in creatinine or weight changes the dose; recheck renal function.",
                self.policy.citations,
            )

    def _units(self, route: str) -> tuple[_Unit, ...]:
        """``route_units`` of this label's ``route``, kept per pack."""
        return self.knowledge.derived(_RouteUnits).of(self.label, route)

    def _printed(self, row: RegimenRow, band: Band) -> _Printed:
        """What ``band`` of ``row`` prints whatever the patient, worked out once per pack."""
        return self.knowledge.derived(_PrintedBands).of(self.label, row, band)

    def _phase(self, row: RegimenRow, weight: Decimal | None) -> DoseRegimen | Outcome:
        if row.formula is not None:
            return self._pediatric(row, row.formula, weight)
        chosen = self._band(row)
        if isinstance(chosen, Outcome):
            return chosen
        band = chosen
        printed = self._printed(row, band)
        self.cite(band, printed.cited_as)
        band_text = _band_text(band, self.renal)
        if band.refuse is not None:
            self.reasons.append(band.reason or "")
            if self.renal is not None:
                self.renal = RenalResult(self.renal.clearance, band_text, self.renal.crcl_ml_min)
            return Outcome(band.refuse)
        if self.renal is not None and self.renal.band is None:
            self.renal = RenalResult(self.renal.clearance, band_text, self.renal.crcl_ml_min)
        dose_mg_per_kg = band.dose_mg_per_kg
        every_h = band.every_h
        capped = ""
        dose_mg_per_kg_given = None
        if dose_mg_per_kg is not None:
            assert weight is not None
            dose_mg = dose_mg_per_kg * weight
            cap = band.max_dose
            if cap is not None and dose_mg > cap.mg:
                self.cite(cap, f"{self.label.drug} largest single dose")
                capped = (
                    f" is above the largest single dose of the label, {_plain(cap.mg)} mg "
                    f"({_source(cap)}): {_plain(cap.mg)} mg"
                )
                self.alert(
                    "implausible-input",
                    "warning",
                    f"{_plain(dose_mg_per_kg)} mg/kg × {weight} kg = {_plain(dose_mg)} mg"
                    f"{capped} is given instead. Check the weight: a per-kg dose above the "
                    "label's largest dose is never given.",
                    cap.citations,
                )
                dose_mg, dose_mg_per_kg_given = cap.mg, dose_mg_per_kg
        else:
            assert band.dose_mg is not None
            dose_mg = band.dose_mg
        override = self._dose_override()
        if override is not None:
            assert override.dose_mg is not None and override.every_h is not None
            self.reasons.append(f"{override.message} ({_source(override)})")
            dose_mg, every_h, dose_mg_per_kg = override.dose_mg, override.every_h, None
        if override is not None:
            assert every_h is not None
            schedule, per_week = schedule_wording(every_h), _per_week(every_h, None)
        else:
            assert printed.schedule is not None and printed.doses_per_week is not None
            schedule, per_week = printed.schedule, printed.doses_per_week
        formulation = dose_formulation(self.label, row.route, dose_mg, printed.formulation)
        volume = self._volume(dose_mg, formulation)
        dose_text = f"{_plain(dose_mg)} mg"
        if dose_mg_per_kg_given is not None:
            dose_text = f"{_plain(dose_mg_per_kg_given)} mg/kg × {weight} kg{capped}"
        elif dose_mg_per_kg is not None:
            dose_text = f"{_plain(dose_mg_per_kg)} mg/kg × {weight} kg = {dose_text}"
        self.reasons.append(f"{band_text}: {dose_text} {schedule} ({printed.source}).")
        then = None
        if row.then is not None:
            following = self.label.regimen(row.then)
            self.cite(
                following, self.knowledge.derived(_RowTexts).of(self.label, following).cited_as
            )
            outcome_or_phase = self._phase(following, weight)
            if isinstance(outcome_or_phase, Outcome):
                return outcome_or_phase
            then = outcome_or_phase
        return frozen(
            DoseRegimen,
            dose_mg=dose_mg,
            every_h=every_h,
            schedule=schedule,
            doses_per_week=per_week,
            band=band_text,
            citations=printed.citations,
            dose_mg_per_kg=None if dose_mg_per_kg_given is not None else dose_mg_per_kg,
            formulation=formulation.id if formulation else None,
            oral_solution_ml=volume,
            administration=(
                *unit_lines(self.label, row.route, dose_mg, self._units(row.route)),
                *row.administration,
            ),
            section=printed.section,
            then=then,
            renally_adjusted=printed.renally_adjusted,
            **printed.row_fields,
        )

    def _volume(self, dose_mg: Decimal, formulation: Formulation | None) -> Decimal | None:
        """mL of an oral solution for ``dose_mg`` (policy decimals), or None for other forms."""
        if formulation is None or formulation.mg_per_ml is None:
            return None
        quantum = Decimal(1).scaleb(-self.policy.oral_solution_ml_decimals)
        return _round(dose_mg / formulation.mg_per_ml, quantum)

    def _pediatric(
        self, row: RegimenRow, formula: PediatricFormula, weight: Decimal | None
    ) -> DoseRegimen | Outcome:
        p = self.patient
        if p.dialysis != "none":
            self.reasons.append(
                f"The label's pediatric formula (7 × BSA × CrCl) gives no dose on {p.dialysis}."
            )
            return Outcome.SPECIALIST_REVIEW
        if self.renal is None:
            return Outcome.SPECIALIST_REVIEW
        assert weight is not None and p.height_cm is not None
        self.cite(formula, f"{self.label.drug} pediatric formula")
        self.cite(self.formulas.mosteller, "Mosteller BSA")
        bsa = mosteller_bsa(self.formulas, height_cm=p.height_cm, weight_kg=weight)
        crcl = self.renal.value
        calculated = formula.factor * bsa * Decimal(crcl.numerator) / Decimal(crcl.denominator)
        capped = min(calculated, formula.dose_cap_mg)
        dose = _round(capped / formula.round_to_mg, Decimal(1)) * formula.round_to_mg
        if dose <= 0:
            self.reasons.append(f"The calculated dose {calculated:.1f} mg rounds to 0 mg.")
            return Outcome.SPECIALIST_REVIEW
        band_text = (
            f"pediatric formula {formula.factor} × BSA × CrCl "
            f"(CrCl {self.renal.clearance.rounded(2)} {self.renal.clearance.unit}, at most {formula.crcl_cap_ml_min_173})"
        )
        self.renal = RenalResult(self.renal.clearance, band_text)
        cap_text = (
            f", capped at {formula.dose_cap_mg} mg" if calculated > formula.dose_cap_mg else ""
        )
        self.reasons.append(
            f"{formula.factor} × BSA {bsa:.3f} m² × CrCl {float(crcl):.2f} mL/min/1.73 m² = {calculated:.1f} mg"
            f"{cap_text}, rounded to the nearest {formula.round_to_mg} mg = {_plain(dose)} mg once daily ({_source(row)})."
        )
        tablet = self.label.formulation(formula.tablet_formulation)
        solution = self.label.formulation(row.formulation)
        administration = row.administration
        if tablet is not None and tablet.strength_mg is not None:
            window = tablet.strength_mg * formula.tablet_window_fraction
            if abs(dose - tablet.strength_mg) <= window:
                administration = (
                    *administration,
                    f"The dose is within {formula.tablet_window_fraction * 100:.0f}% of {tablet.strength_mg} mg: "
                    f"one {tablet.strength_mg} mg tablet may be used if the child can swallow tablets.",
                )
        volume = self._volume(dose, solution)
        return frozen(
            DoseRegimen,
            dose_mg=dose,
            every_h=formula.every_h,
            schedule=schedule_wording(formula.every_h),
            doses_per_week=Fraction(168) / Fraction(formula.every_h),
            band=band_text,
            citations=row.citations,
            calculated_mg=calculated,
            formulation=solution.id if solution else None,
            oral_solution_ml=volume,
            administration=administration,
            section=row.section,
            **_row_fields(self.label, row),
        )


#: How a unit of each solid form is named in the administration line (singular, plural).
_UNIT_NAMES = {
    "tablet": ("tablet", "tablets"),
    "oral_pellets": ("pellet packet", "pellet packets"),
    "injection": ("vial", "vials"),
}


def _whole_units(form: Formulation, dose_mg: Decimal) -> int | None:
    """How many units of ``form`` make ``dose_mg`` exactly; None when they cannot."""
    if form.strength_mg is None or form.form not in _UNIT_NAMES:
        return None
    count, rest = divmod(dose_mg, form.strength_mg)
    return int(count) if rest == 0 and count >= 1 else None


def dose_formulation(
    label: DrugLabel, route: str, dose_mg: Decimal, printed: Formulation | None
) -> Formulation | None:
    """The formulation named beside ``dose_mg``: the row's when whole units of it make the dose
    (or it is a solution, or no other form of the route does), else the largest strength of the
    same route and form that does (probe9 #5: letermovir 240 mg with cyclosporine was printed
    with ``tablet-480``)."""
    if printed is None or printed.strength_mg is None or _whole_units(printed, dose_mg):
        return printed
    fitting = [
        f
        for f in label.formulations
        if f.route == route and f.form == printed.form and _whole_units(f, dose_mg)
    ]
    if not fitting:
        return printed  # a weight-based dose drawn from a reconstituted vial
    return max(fitting, key=lambda f: f.strength_mg or 0)


def unit_lines(
    label: DrugLabel, route: str, dose_mg: Decimal, units: tuple[_Unit, ...] | None = None
) -> tuple[str, ...]:
    """The units that make ``dose_mg`` ("Per dose: 1 × 240 mg tablet, or 2 × 120 mg pellet
    packets."), computed from the dose actually recommended and the label's formulations of the
    route, never typed beside a dose: a dose that no whole number of units makes has no line.
    ``units``: ``route_units(label, route)``, when the caller has it at hand (kept per pack)."""
    ways = []
    for unit in route_units(label, route) if units is None else units:
        count, rest = divmod(dose_mg, unit.strength_mg)  # as ``_whole_units``
        if rest == 0 and count >= 1:
            ways.append(
                f"{int(count)} × {unit.strength} mg {unit.one if count == 1 else unit.many}"
            )
    return (f"Per dose: {', or '.join(ways)}.",) if ways else ()


@dataclass(frozen=True)
class _Unit:
    """A solid form of a route, as ``unit_lines`` names whole units of it."""

    strength_mg: Decimal
    strength: str  # the strength as printed
    one: str
    many: str


def route_units(label: DrugLabel, route: str) -> tuple[_Unit, ...]:
    """The formulations of ``route`` counted in whole units (a named solid form with a strength),
    in the order ``unit_lines`` names them: tablets, then pellets, then vials, each the largest
    strength first (the label's order among equals)."""
    ordered = sorted(
        label.formulations,
        key=lambda f: (
            list(_UNIT_NAMES).index(f.form) if f.form in _UNIT_NAMES else 9,
            -(f.strength_mg or 0),
        ),
    )
    return tuple(
        _Unit(f.strength_mg, _plain(f.strength_mg), *_UNIT_NAMES[f.form])
        for f in ordered
        if f.route == route and f.form in _UNIT_NAMES and f.strength_mg is not None
    )


class _RouteUnits:
    """``route_units`` of each (label, route) of a pack, worked out on first use and kept with
    the pack (``Knowledge.derived``, as ``_RowTexts``): every recommended dose sorted the label's
    formulations again and read each one's fields (issue 20, ADR 0032). An entry holds its label
    and is used only for the very same object."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._entries: dict[tuple[int, str], tuple[DrugLabel, tuple[_Unit, ...]]] = {}

    def of(self, label: DrugLabel, route: str) -> tuple[_Unit, ...]:
        entry = self._entries.get((id(label), route))
        if entry is not None and entry[0] is label:
            return entry[1]
        units = route_units(label, route)
        self._entries[(id(label), route)] = (label, units)
        return units


def _row_fields(label: DrugLabel, row: RegimenRow) -> dict[str, Any]:
    """The fields of a regimen that come from its row whatever the band."""
    return {
        "route": row.route,
        "row": f"{label.drug}/{row.id}",
        "duration_days": row.duration_days,
        "duration": row.duration,
        "until_post_transplant_day": row.until_post_transplant_day,
    }


def _per_week(every_h: Decimal | None, doses_per_week: Decimal | None) -> Fraction:
    """Administrations per week, exact: 168 h over the interval, else as the label counts them."""
    if every_h is not None:
        hours, part = every_h.as_integer_ratio()
        return Fraction(168 * part, hours)
    assert doses_per_week is not None
    return Fraction(doses_per_week)


@dataclass(frozen=True)
class _Printed:
    """What a band of a regimen row prints whatever the patient: its citation label, schedule
    and doses per week, formulation, source, citations, whether it is a renal adjustment, its
    section and its row's fields, and the row's band edges (each with its float, for the
    boundary note)."""

    cited_as: str
    schedule: str | None
    doses_per_week: Fraction | None
    formulation: Formulation | None
    source: str
    citations: tuple[str, ...]
    renally_adjusted: bool
    section: str | None
    row_fields: dict[str, Any]
    edges: tuple[tuple[Decimal, float], ...]


@dataclass(frozen=True)
class _ActiveChecks:
    """The label checks that apply to a region, route and indication, with what the steps ask
    of them: their measures, whether one reads a creatinine clearance, whether such a one is
    required."""

    checks: tuple[Check, ...]
    measures: frozenset[str]
    on_crcl: bool
    crcl_required: bool


class _LabelChecks:
    """The ``_ActiveChecks`` of each label, region, route and indication of a pack, worked out
    on first use and kept with the pack (``Knowledge.derived``; they were filtered for every
    dose, issue 20). An entry holds its label and is used only for that very object."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._entries: dict[tuple[int, str, str | None, str], tuple[DrugLabel, _ActiveChecks]]
        self._entries = {}

    def of(
        self, label: DrugLabel, region: str, route: str | None, indication: str
    ) -> _ActiveChecks:
        key = (id(label), region, route, indication)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is label:
            return entry[1]
        checks = tuple(
            c
            for c in label.checks
            if region in c.regions
            and (route is None or route in c.routes)
            and (not c.indications or indication in c.indications)
        )
        active = _ActiveChecks(
            checks=checks,
            measures=frozenset(c.measure for c in checks),
            on_crcl=any(c.measure in ("crcl_ml_min", "crcl_ml_min_kg") for c in checks),
            crcl_required=any(c.required for c in checks if c.measure.startswith("crcl")),
        )
        self._entries[key] = (label, active)
        return active


@dataclass(frozen=True)
class _RowText:
    """What a regimen row prints whatever the patient: its citation label and the reason line
    naming it with its source."""

    cited_as: str
    regimen: str


class _RowTexts:
    """The ``_RowText`` of each regimen row of a pack's labels, worked out on first use and kept
    with the pack (``Knowledge.derived``), as ``_PrintedBands`` (issue 20: the two texts were
    formatted for every dose)."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._entries: dict[int, tuple[RegimenRow, _RowText]] = {}

    def of(self, label: DrugLabel, row: RegimenRow) -> _RowText:
        entry = self._entries.get(id(row))
        if entry is not None and entry[0] is row:
            return entry[1]
        text = _RowText(
            cited_as=f"{label.drug} regimen {row.id}",
            regimen=f"Regimen: {row.description} ({_source(row)}).",
        )
        self._entries[id(row)] = (row, text)
        return text


class _PrintedBands:
    """The ``_Printed`` of each (row, band) of a pack's labels, worked out on first use and kept
    with the pack (``Knowledge.derived``: a dose used to redo this for every patient). The rows
    and bands are the pack's own objects, kept alive by it; an entry also holds them and is used
    only for the very same objects. Two threads may both work an entry out: the same value."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._entries: dict[tuple[int, int], tuple[RegimenRow, Band, _Printed]] = {}

    def of(self, label: DrugLabel, row: RegimenRow, band: Band) -> _Printed:
        entry = self._entries.get((id(row), id(band)))
        if entry is not None and entry[0] is row and entry[1] is band:
            return entry[2]
        schedule, per_week = None, None  # a refusing band has no dose
        if band.every_h is not None:
            schedule, per_week = schedule_wording(band.every_h), _per_week(band.every_h, None)
        elif band.doses_per_week is not None:
            schedule, per_week = band.schedule, _per_week(None, band.doses_per_week)
        printed = _Printed(
            cited_as=f"{label.drug} {row.id} band {band.crcl_wording}",
            schedule=schedule,
            doses_per_week=per_week,
            formulation=label.formulation(band.formulation or row.formulation),
            source=_source(band, row),
            citations=tuple(dict.fromkeys((*row.citations, *band.citations))),
            renally_adjusted=_adjusted(row, band),
            section=band.section or row.section,
            row_fields=_row_fields(label, row),
            edges=tuple((e, float(e)) for e in row.band_edges),
        )
        self._entries[id(row), id(band)] = (row, band, printed)
        return printed


def _adjusted(row: RegimenRow, band: Band) -> bool:
    """Whether ``band`` lowers the dose from the row's normal-renal-function band."""
    if not row.renal_bands and not band.dialysis:
        return False
    return band is not row.top_band


def _band_text(band: Band, renal: RenalResult | None) -> str:
    if band.dialysis and not band.bounded:
        return f"on {' or '.join(band.dialysis)}"
    if not band.bounded:
        return "no renal adjustment"
    unit = renal.clearance.unit if renal else "mL/min"
    return f"{band.crcl_wording} {unit}"


def _band_dose(band: Band) -> str:
    """A band's printed dose with its band, e.g. ``900 mg every 24 h (CrCl ≥ 60)``."""
    if band.refuse is not None:
        return f"{band.refuse} ({band.crcl_wording})"
    dose = f"{_plain(band.dose_mg)} mg" if band.dose_mg is not None else ""
    if band.dose_mg_per_kg is not None:
        dose = f"{_plain(band.dose_mg_per_kg)} mg/kg"
    every = (
        f"every {_plain(band.every_h)} h" if band.every_h is not None else band.schedule or ""
    )
    return f"{dose} {every} ({band.crcl_wording})"


def _source(row: Fact, parent: RegimenRow | None = None) -> str:
    section = getattr(row, "section", None) or (parent.section if parent else None)
    text = ", ".join(row.citations)
    return f"{text} {section}" if section else text


def _exact(value: Decimal | int) -> Fraction:
    """``Fraction(value)`` from its integer ratio (no ``numbers.Rational`` ABC check)."""
    numerator, denominator = value.as_integer_ratio()
    return Fraction(numerator, denominator)


def _round(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text
