"""Schemas of the drug tables: one label file per drug, plus the renal formulas and dosing policy.

A drug file (``drugs/<inn>.yaml``) is the label turned into rows the engine interprets:

- ``regimens``: one row per labelled regimen (indication × population × region × route). A row
  either doses (``bands`` keyed on renal function, or a pediatric ``formula``) or refuses with an
  ``outcome`` and a ``reason`` (valganciclovir prophylaxis in liver transplant, US label).
- ``bands``: renal rows with edges exactly as printed. ``at_least``/``above`` give the lower edge,
  ``below``/``at_most`` the upper edge (half-open where the label prints integers; explicit where
  it prints > and ≥, as for foscarnet). The bands of a regimen must tile [0, ∞) with no gap and
  no overlap — the loader refuses a table that does not.
- ``checks``: thresholds that refuse (cidofovir creatinine > 1.5 mg/dL) or warn (letermovir
  CrCl ≤ 10 mL/min), hematologic limits included.
- ``interactions``: co-medications that change the dose (letermovir 240 mg with cyclosporine),
  refuse it (maribavir with ganciclovir in the EU) or warn.

Every row is a ``Fact``: it cites its label section and says whether it was verified.
"""


from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from itertools import pairwise
from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict

Region = Literal["us", "eu"]
Route = Literal["oral", "iv"]
Dialysis = Literal["hemodialysis", "peritoneal", "crrt"]
RenalMeasure = Literal["crcl_ml_min", "crcl_ml_min_kg", "none"]
RefusalOutcome = Literal["not_indicated", "excluded", "specialist_review"]
Sex = Literal["female", "male"]
#: Exclusion rules kept by another pathway's tables, applied by the dose calculator through that
#: pathway's own function (never copied): ``pregnancy_protocol`` is the AIFA 648/96 rule A7.
ProtocolExclusions = Literal["pregnancy_protocol", "congenital_trial"]
IndicationName = Literal[
    "induction",
    "maintenance",
    "prophylaxis",
    "preemptive",
    "refractory",
    "congenital",
    "pregnancy-prevention",
    "fetal-treatment",
]
Organ = Literal[
    "kidney", "liver", "heart", "lung", "pancreas", "kidney-pancreas", "intestine", "hsct"
]
Measure = Literal[
    "creatinine_mg_dl",
    "crcl_ml_min",
    "crcl_ml_min_kg",
    "urine_protein_mg_dl",
    "anc_per_ul",
    "platelets_per_ul",
    "hemoglobin_g_dl",
    "dialysis",
    "child_pugh",
    "pregnancy",
]


class Interval(Strict):
    """A range on one measure with its edges as printed: ``at_least``/``above``, ``below``/``at_most``."""

    at_least: Decimal | None = None
    above: Decimal | None = None
    below: Decimal | None = None
    at_most: Decimal | None = None

    @model_validator(mode="after")
    def _one_edge_each_side(self) -> "Interval":
        if self.at_least is not None and self.above is not None:
            raise ValueError("give at_least or above, not both")
        if self.below is not None and self.at_most is not None:
            raise ValueError("give below or at_most, not both")
        return self

    @cached_property
    def bounded(self) -> bool:
        return any(v is not None for v in (self.at_least, self.above, self.below, self.at_most))

    @cached_property
    def _ratios(self) -> tuple[tuple[int, int] | None, ...]:
        """Each edge as an exact integer ratio (numerator, denominator), computed once."""
        return tuple(
            None if edge is None else edge.as_integer_ratio()
            for edge in (self.at_least, self.above, self.below, self.at_most)
        )

    def contains(self, value: Fraction) -> bool:
        """Whether ``value`` (exact) lies in the interval; edges compared exactly, never in float.

        ``n/d ≥ a/b`` is decided as ``n·b ≥ a·d`` in integers (denominators are positive).
        """
        n, d = value.numerator, value.denominator
        at_least, above, below, at_most = self._ratios
        if at_least is not None and n * at_least[1] < at_least[0] * d:
            return False
        if above is not None and n * above[1] <= above[0] * d:
            return False
        if below is not None and n * below[1] >= below[0] * d:
            return False
        return not (at_most is not None and n * at_most[1] > at_most[0] * d)

    def edges(self) -> tuple[Decimal, ...]:
        return tuple(
            v for v in (self.at_least, self.above, self.below, self.at_most) if v is not None
        )

    @cached_property
    def crcl_wording(self) -> str:
        return self.wording("CrCl")

    def wording(self, name: str = "CrCl") -> str:
        """The band as a pharmacist reads it: ``CrCl ≥ 40 and < 60``."""
        parts = []
        if self.at_least is not None:
            parts.append(f"≥ {self.at_least}")
        if self.above is not None:
            parts.append(f"> {self.above}")
        if self.below is not None:
            parts.append(f"< {self.below}")
        if self.at_most is not None:
            parts.append(f"≤ {self.at_most}")
        return f"{name} {' and '.join(parts)}" if parts else "any renal function"


class DoseCap(Fact):
    """The largest single dose a per-kg band may give (``mg``), with its source: a heavier
    weight gives the cap, said in an alert (probe8 S1: 16 mg/kg × 90 kg = 1,440 mg in an
    infant, 1.6 × the adult dose)."""

    mg: Decimal = Field(gt=0)
    section: str | None = None


class Band(Interval, Fact):
    """One renal row: the band, then the dose (or the refusal) the label prints for it.

    ``dialysis`` rows apply to patients on that dialysis whatever their clearance. A dose is
    ``dose_mg`` or ``dose_mg_per_kg``, given ``every_h`` hours or on a ``schedule`` without a clock
    interval ("three times weekly after hemodialysis") with its ``doses_per_week``.
    """

    dialysis: tuple[Dialysis, ...] = ()
    dose_mg: Decimal | None = Field(default=None, gt=0)
    dose_mg_per_kg: Decimal | None = Field(default=None, gt=0)
    max_dose: DoseCap | None = None
    every_h: Decimal | None = Field(default=None, gt=0)
    schedule: str | None = None
    doses_per_week: Decimal | None = Field(default=None, gt=0)
    formulation: str | None = None
    refuse: RefusalOutcome | None = None
    reason: str | None = None
    section: str | None = None

    @model_validator(mode="after")
    def _dose_or_refusal(self) -> "Band":
        if self.refuse is not None:
            if not self.reason:
                raise ValueError("a refusing band needs its reason")
            return self
        if (self.dose_mg is None) == (self.dose_mg_per_kg is None):
            raise ValueError("give exactly one of dose_mg and dose_mg_per_kg")
        if self.max_dose is not None and self.dose_mg_per_kg is None:
            raise ValueError("max_dose caps a dose_mg_per_kg")
        if self.every_h is None and (self.schedule is None or self.doses_per_week is None):
            raise ValueError("give every_h, or a schedule with its doses_per_week")
        return self


class PediatricFormula(Fact):
    """Valganciclovir pediatric dose = factor × BSA (Mosteller) × CrCl (label Schwartz), capped, rounded."""

    kind: Literal["bsa-crcl"]
    factor: Decimal
    crcl_cap_ml_min_173: Decimal
    dose_cap_mg: Decimal
    round_to_mg: Decimal
    every_h: Decimal
    tablet_window_fraction: Decimal
    tablet_formulation: str


class RegimenRow(Fact):
    """A labelled regimen: what it is for, for whom, and its dose by renal band (or formula).

    The population is data: ``organs``, ages (``min_age_years``/``max_age_years`` in whole years,
    ``min_age_months``/``max_age_months`` in whole months), ``min_weight_kg`` and ``sexes``. A
    patient of another sex is ``not_indicated`` (the indication cannot apply); outside the other
    bounds the answer is ``specialist_review``. ``protocol_exclusions`` names the protocol whose
    exclusion criteria the regimen must pass (they stay in that protocol's table).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    indications: tuple[IndicationName, ...] = Field(min_length=1)
    regions: tuple[Region, ...] = ("us", "eu")
    route: Route
    preferred: bool = True
    description: str
    organs: tuple[Organ, ...] = ()
    min_age_years: Decimal | None = None
    max_age_years: Decimal | None = None
    min_age_months: int | None = None
    max_age_months: int | None = None
    min_weight_kg: Decimal | None = None
    sexes: tuple[Sex, ...] = ()
    protocol_exclusions: ProtocolExclusions | None = None
    duration_days: int | None = None
    duration: str | None = None
    #: probe11 W6: the label fixes the phase's length (cidofovir induction: once weekly × 2,
    #: then maintenance); a running course still ordered as this phase after it is flagged
    fixed_duration: bool = False
    until_post_transplant_day: int | None = None
    then: str | None = None
    section: str | None = None
    formulation: str | None = None
    administration: tuple[str, ...] = ()
    outcome: RefusalOutcome | None = None
    reason: str | None = None
    alert: str | None = None
    bands: tuple[Band, ...] = ()
    formula: PediatricFormula | None = None

    @model_validator(mode="after")
    def _doses_or_refuses(self) -> "RegimenRow":
        if self.outcome is not None:
            if not self.reason:
                raise ValueError(f"{self.id}: a refusing regimen needs its reason")
            return self
        if (not self.bands) == (self.formula is None):
            raise ValueError(f"{self.id}: give bands or a formula")
        _check_tiling(self.id, [b for b in self.bands if not b.dialysis])
        return self

    @cached_property
    def renal_bands(self) -> bool:
        return any(b.bounded for b in self.bands)

    @cached_property
    def top_band(self) -> Band | None:
        """The band of normal renal function (open above), if the row has renal bands."""
        return next(
            (b for b in self.bands if not b.dialysis and b.below is None and b.at_most is None),
            None,
        )

    @cached_property
    def band_edges(self) -> tuple[Decimal, ...]:
        """Every edge of the row's bands, once each, in increasing order."""
        return tuple(sorted({e for b in self.bands for e in b.edges()}))


def _check_tiling(row: str, bands: list[Band]) -> "None":
    """The non-dialysis bands must cover [0, ∞) exactly once (or be one unbounded band)."""
    if len(bands) == 1 and not bands[0].bounded:
        return
    if not bands:
        return

    def lower(b: Band) -> tuple[Decimal, bool]:  # (edge, inclusive)
        if b.at_least is not None:
            return b.at_least, True
        if b.above is not None:
            return b.above, False
        return Decimal(0), True

    ordered = sorted(bands, key=lambda b: (lower(b)[0], not lower(b)[1]))
    if lower(ordered[0]) != (Decimal(0), True):
        raise ValueError(f"{row}: the lowest band must start at 0")
    for current, following in pairwise(ordered):
        if current.below is not None:
            edge, closed = current.below, False
        elif current.at_most is not None:
            edge, closed = current.at_most, True
        else:
            raise ValueError(f"{row}: only the highest band may be open above")
        nxt, nxt_closed = lower(following)
        if nxt != edge or nxt_closed == closed:
            raise ValueError(f"{row}: bands leave a gap or overlap at {edge}")
    top = ordered[-1]
    if top.below is not None or top.at_most is not None:
        raise ValueError(f"{row}: the highest band must be open above")


class Check(Interval, Fact):
    """A threshold that refuses the drug (``exclude``), sends it to ``review`` or warns, when in range.

    ``measure: dialysis`` fires for the listed dialysis modes, ``measure: child_pugh`` for the listed
    Child-Pugh classes, ``measure: pregnancy`` when the case carries a pregnancy (probe14 S1: the
    labels' embryo-fetal toxicity warnings). ``required`` makes a missing value an
    ``insufficient_data`` result (cidofovir cannot start without creatinine, CrCl and urine protein).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    measure: Measure
    dialysis: tuple[Dialysis, ...] = ()
    child_pugh: tuple[Literal["A", "B", "C"], ...] = ()
    effect: Literal["exclude", "review", "warn"]
    alert: str
    severity: Literal["info", "warning", "critical"] = "warning"
    message: str
    required: bool = False
    regions: tuple[Region, ...] = ("us", "eu")
    routes: tuple[Route, ...] = ("oral", "iv")
    indications: tuple[IndicationName, ...] = ()
    section: str | None = None


class Interaction(Fact):
    """A co-medication rule: ``dose`` replaces the dose; ``exclude`` refuses; ``warn`` alerts;
    ``review`` (intolerance rows only: a cross-reacting drug the label names) leaves the drug to a
    specialist, as the patient's recorded intolerance of the drug itself does."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    with_any: tuple[str, ...] = Field(min_length=1)
    only_with: tuple[str, ...] = ()
    effect: Literal["dose", "exclude", "warn", "review"]
    severity: Literal["info", "warning", "critical"] = "warning"
    message: str
    dose_mg: Decimal | None = Field(default=None, gt=0)
    every_h: Decimal | None = Field(default=None, gt=0)
    regions: tuple[Region, ...] = ("us", "eu")
    section: str | None = None
    when: Literal["taking", "intolerant"] = "taking"
    """``taking``: a drug of ``with_any`` is a running co-medication; ``intolerant``: the patient
    has a recorded intolerance or hypersensitivity to one (cidofovir: probenecid, sulfa drugs)."""
    lookback_days: int | None = Field(default=None, ge=1)
    """A drug of ``with_any`` stopped fewer than this many days ago still counts (cidofovir:
    nephrotoxic agents must be stopped at least 7 days before the start)."""

    @model_validator(mode="after")
    def _dose_given(self) -> "Interaction":
        if self.effect == "dose" and (self.dose_mg is None or self.every_h is None):
            raise ValueError(f"{self.id}: a dose interaction needs dose_mg and every_h")
        if self.effect == "review" and self.when != "intolerant":
            raise ValueError(f"{self.id}: a review row is an intolerance row (when: intolerant)")
        return self


class Formulation(Fact):
    """A product form: tablet of ``strength_mg``, or a solution of ``mg_per_ml``."""

    id: str
    form: Literal["tablet", "oral_solution", "oral_pellets", "injection"]
    route: Route
    strength_mg: Decimal | None = None
    mg_per_ml: Decimal | None = None


class OnTherapyRenalRule(Fact):
    """A label rule for a course already running: a creatinine rise above the pre-treatment baseline
    (``creatinine_rise_mg_dl``) or the on-therapy urine protein, in ``[at_least, below)``.

    ``reduce`` gives the new dose per kg (computed on the current weight); ``discontinue`` stops
    the drug. These are distinct from the start-only contraindications (``checks`` scoped to the
    induction indications): the VISTIDE label contraindicates *initiation* above its limits and
    adjusts a running course by the rise from baseline.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    measure: Literal["creatinine_rise_mg_dl", "urine_protein_mg_dl"]
    at_least: Decimal = Field(gt=0)
    below: Decimal | None = None
    effect: Literal["reduce", "discontinue"]
    dose_mg_per_kg: Decimal | None = Field(default=None, gt=0)
    message: str
    section: str | None = None

    @model_validator(mode="after")
    def _dose_for_reduce(self) -> "OnTherapyRenalRule":
        if (self.effect == "reduce") != (self.dose_mg_per_kg is not None):
            raise ValueError(f"{self.id}: a reduce rule (and only it) gives dose_mg_per_kg")
        if self.below is not None and self.below <= self.at_least:
            raise ValueError(f"{self.id}: below must exceed at_least")
        return self

    def contains(self, value: Decimal) -> bool:
        return value >= self.at_least and (self.below is None or value < self.below)


class DrugLabel(Fact):
    """``drugs/<inn>.yaml``: one drug as its labels print it (US default, EU where it differs)."""

    drug: str = Field(pattern=r"^[a-z][a-z-]*$")
    renal_measure: RenalMeasure
    formulations: tuple[Formulation, ...] = ()
    regimens: tuple[RegimenRow, ...] = Field(min_length=1)
    checks: tuple[Check, ...] = ()
    interactions: tuple[Interaction, ...] = ()
    on_therapy_renal: tuple[OnTherapyRenalRule, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> "DrugLabel":
        ids = [r.id for r in self.regimens]
        if len(set(ids)) != len(ids):
            raise ValueError("regimen ids must be unique")
        forms = {f.id for f in self.formulations}
        for row in self.regimens:
            if row.then is not None and row.then not in ids:
                raise ValueError(f"{row.id}: then names an unknown regimen {row.then!r}")
        following = {r.id: r.then for r in self.regimens}
        for start in following:
            seen: set[str] = set()
            current: str | None = start
            while current is not None:
                if current in seen:
                    raise ValueError(f"{start}: its then phases loop back to {current}")
                seen.add(current)
                current = following[current]
            for form in (row.formulation, *(b.formulation for b in row.bands)):
                if form is not None and form not in forms:
                    raise ValueError(f"{row.id}: unknown formulation {form!r}")
        return self

    def formulation(self, form_id: str | None) -> Formulation | None:
        for form in self.formulations:
            if form.id == form_id:
                return form
        return None

    @cached_property
    def _index(self) -> dict[tuple[str, str], list[RegimenRow]]:
        index: dict[tuple[str, str], list[RegimenRow]] = {}
        for row in self.regimens:
            for indication in row.indications:
                for region in row.regions:
                    index.setdefault((indication, region), []).append(row)
        return index

    @cached_property
    def _weight_based(self) -> dict[str, bool]:
        """Per regimen id: whether it or a phase after it is dosed by weight."""
        by_id = {row.id: row for row in self.regimens}

        def needs(row: RegimenRow) -> bool:
            if row.formula is not None or any(b.dose_mg_per_kg is not None for b in row.bands):
                return True
            return row.then is not None and needs(by_id[row.then])

        return {row.id: needs(row) for row in self.regimens}

    def weight_based(self, regimen_id: str) -> bool:
        return self._weight_based[regimen_id]

    def rows_for(self, indication: str, region: str) -> list[RegimenRow]:
        """The regimen rows for ``indication`` in ``region``, in file order (a new list)."""
        return list(self._index.get((indication, region), ()))

    def regimen(self, regimen_id: str) -> "RegimenRow":
        for row in self.regimens:
            if row.id == regimen_id:
                return row
        raise KeyError(regimen_id)


class SchwartzK(Fact):
    """One row of the valganciclovir label's Schwartz constant table (age in whole years)."""

    k: Decimal
    sex: Literal["male", "female"] | None = None
    min_age_years: int = 0
    below_age_years: int
    birth_weight_for_gestational_age: Literal["low", "appropriate"] | None = None


class CockcroftGault(Fact):
    age_from: Decimal
    divisor: Decimal
    female_factor: Decimal


class CkdEpi2021(Fact):
    base: Decimal
    kappa_female: Decimal
    kappa_male: Decimal
    alpha_female: Decimal
    alpha_male: Decimal
    exponent_above: Decimal
    age_base: Decimal
    female_factor: Decimal
    #: the equation was developed and validated in adults (probe13 N5): below this age it is not used
    min_age_years: Decimal | None = None


class Devine(Fact):
    base_male_kg: Decimal
    base_female_kg: Decimal
    kg_per_inch: Decimal
    inches_from: Decimal
    cm_per_inch: Decimal
    adjusted_fraction: Decimal
    obesity_ratio: Decimal


class Mosteller(Fact):
    divisor: Decimal


class BedsideSchwartz(Fact):
    k: Decimal


class RenalFormulas(Strict):
    """``drugs/formulas.yaml``: every coefficient of every renal and body-size formula, once."""

    cockcroft_gault: CockcroftGault
    ckd_epi_2021: CkdEpi2021
    bedside_schwartz: BedsideSchwartz
    schwartz_label: tuple[SchwartzK, ...] = Field(min_length=1)
    ibw_devine: Devine
    mosteller: Mosteller


class OverdoseSeverity(Strict):
    """An order at least ``ratio_at_least`` times the recommended daily amount raises ``severity``."""

    ratio_at_least: Decimal = Field(gt=1)
    severity: Literal["warning", "critical"]


class DosingPolicy(Fact):
    """``drugs/policy.yaml``: the engine rules the labels leave open (dosing.md §0).

    ``overdose_severity``: the severity of a ``check_dose`` alert for an order above the labelled
    daily amount, by how many times above it is (the highest rule met applies; else ``warning``).
    """

    band_edges: str
    boundary_margin_ml_min: Decimal
    boundary_margin_ml_min_kg: Decimal
    check_tolerance_fraction: Decimal
    overdose_severity: tuple[OverdoseSeverity, ...] = Field(min_length=1)
    oral_solution_ml_decimals: int
    dipstick_mg_dl: dict[str, Decimal]
    intolerance: str
    """Why a drug on the patient's intolerance list is never dosed (the refusal's wording)."""
