"""Schemas of the immune-status pathway tables (``data/transplant/``).

Every number the SOT, HSCT, HIV and immune pathways act on is a cited row here: a ``Value`` (one
number), a ``Range`` (a guideline range), a ``Words`` list (a closed set such as the organs that
call for IV therapy), or a structured row (prevention strategy per organ and serostatus, a
monitoring item, a management option). ``Overview`` declares the sections of the cited treatment
overview (``cmvcds explain``); its sentences are knowledge statements or generated from the
other tables, never typed in code.
"""


from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict

__all__ = [
    "HivRules",
    "HsctPrevention",
    "ImmuneRules",
    "ManagementOption",
    "MonitoringItem",
    "Overview",
    "Range",
    "RegimenMonitoring",
    "SotPrevention",
    "SotStrategy",
    "TreatmentRules",
    "Value",
    "Words",
]

SotOrgan = Literal["kidney", "liver", "heart", "lung", "pancreas", "kidney-pancreas", "intestine"]
SerostatusGroup = Literal["d_pos_r_neg", "r_pos", "d_neg_r_neg"]
Strategy = Literal["prophylaxis", "preemptive", "none", "site"]


class Value(Fact):
    """One cited number (a day, a count, a cut-off); the unit is in the field name that holds it."""

    value: Decimal


class Range(Fact):
    """A cited guideline range, both ends inclusive."""

    low: Decimal
    high: Decimal

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


class Words(Fact):
    """A cited closed list of words of the case format (organs, severities, drugs)."""

    values: tuple[str, ...] = Field(min_length=1)


class SotStrategy(Fact):
    """The prevention strategy for one organ and serostatus group (transplant-hiv.md §1.2, T3–T5).

    ``strategy`` ``site`` means the guideline allows prophylaxis or pre-emptive therapy and the site
    chooses with ``strategy_setting``. A prophylaxis stop day is fixed (``stop_day``) or a point the
    site chooses (``stop_day_setting``) inside the guideline's ``stop_day_range``.
    """

    organ: SotOrgan
    serostatus: SerostatusGroup
    strategy: Strategy
    strategy_setting: str | None = None
    drug: str | None = None
    drug_setting: str | None = None
    stop_day: int | None = Field(default=None, ge=1, le=730)
    stop_day_setting: str | None = None
    stop_day_range: tuple[int, int] | None = None
    preemptive_allowed: bool = True

    @model_validator(mode="after")
    def _complete(self) -> "SotStrategy":
        if self.strategy == "site" and not self.strategy_setting:
            raise ValueError("a site strategy needs strategy_setting")
        if (
            self.strategy in ("prophylaxis", "site")
            and self.stop_day is None
            and not self.stop_day_setting
        ):
            raise ValueError("prophylaxis needs stop_day or stop_day_setting")
        if self.stop_day_setting and self.stop_day_range is None:
            raise ValueError("a stop day chosen by the site needs the guideline stop_day_range")
        return self


class SotPrevention(Strict):
    """``sot-prevention.yaml``: SOT prevention by organ and serostatus (T1–T7)."""

    adult_age_years: Value
    prophylaxis_start_window_days: Range
    prophylaxis_drug: Words
    letermovir_organs: Words
    letermovir_start_window_days: Range
    letermovir_stop_day: Value
    surveillance_interval_days: Value
    lymphocyte_depleting_agents: Words
    strategies: tuple[SotStrategy, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "SotPrevention":
        keys = [(s.organ, s.serostatus) for s in self.strategies]
        if len(keys) != len(set(keys)):
            raise ValueError("each organ and serostatus group appears once")
        return self

    def strategy(self, organ: str, serostatus: str) -> SotStrategy | None:
        for row in self.strategies:
            if row.organ == organ and row.serostatus == serostatus:
                return row
        return None


class HsctPrevention(Strict):
    """``hsct-prevention.yaml``: letermovir prophylaxis and pre-emptive therapy after HSCT (T11–T15)."""

    adult_age_years: Value
    letermovir_start_window_days: Range
    letermovir_stop_day: Value
    letermovir_extended_stop_day: Value
    letermovir_extension_review_day: Value
    letermovir_extension_risks: Words
    letermovir_interacting_drugs: Words
    surveillance_stop_day: Value
    surveillance_interval_days: Value
    abortive_dnaemia_repeat_days: Value
    autologous_exceptions: Words


class ManagementOption(Fact):
    """One option for refractory or resistant CMV (T23–T24), in the order the guideline ranks them."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    wording: str
    drug: str | None = None
    indication: str | None = None
    regimen: str | None = None
    route: str | None = None

    @model_validator(mode="after")
    def _drug_has_indication(self) -> "ManagementOption":
        if self.drug and not self.indication:
            raise ValueError("an option with a drug names the indication its dose is computed for")
        return self


class TreatmentRules(Strict):
    """``treatment.yaml``: treatment of CMV disease, IV → oral switch, stop rule, refractory options."""

    min_treatment_days: Value
    iv_severities: Words
    iv_organs: Words
    specialist_organs: Words
    absorption_organs: Words
    reduce_immunosuppression_diseases: Words
    first_line_oral: Words
    first_line_iv: Words
    marrow_sparing: Words
    treatment_drugs: Words
    not_treatment_drugs: Words
    clearance_min_spacing_days: Value
    maribavir_min_age_years: Value
    maribavir_min_weight_kg: Value
    hsct_pneumonitis_ivig: Words
    options: tuple[ManagementOption, ...] = Field(min_length=1)

    def option(self, option_id: str) -> "ManagementOption":
        for row in self.options:
            if row.id == option_id:
                return row
        raise KeyError(option_id)


class IntravitrealDose(Fact):
    """One intravitreal injection regimen (H3): ``dose_mg`` in ``volume_ml`` per injection,
    ``injections`` (a range) over ``over_days`` (a range), beside systemic induction."""

    drug: str = Field(pattern=r"^[a-z][a-z-]*$")
    dose_mg: Decimal = Field(gt=0)
    volume_ml: Decimal = Field(gt=0)
    injections_low: int = Field(ge=1)
    injections_high: int = Field(ge=1)
    over_days_low: int = Field(ge=1)
    over_days_high: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> "IntravitrealDose":
        if self.injections_low > self.injections_high or self.over_days_low > self.over_days_high:
            raise ValueError(f"{self.drug}: intravitreal ranges must run low to high")
        return self


class HivRules(Strict):
    """``hiv.yaml``: CMV in adults and adolescents with HIV (H1–H9)."""

    cd4_cutoff_per_ul: Value
    cd4_window_months: Range
    min_therapy_months: Range
    induction_days: Range
    sight_threatening_fovea_um: Value
    sight_threatening_zones: Words
    intravitreal: tuple[IntravitrealDose, ...] = Field(min_length=1)
    virologic_failure_copies_ml: Value
    art_start_within_days: Value
    gi_duration_days: Range
    ophthalmology_interval_days: Value
    retinitis_organs: Words
    gi_organs: Words
    neurological_organs: Words
    anti_cmv_drugs: Words
    immune_recovery_uveitis: Words
    induction_alternatives: Words
    #: Drugs whose induction is the label's fixed course (cidofovir: two weekly doses), not the
    #: site's 14–21 days (``induction_days``, the daily-dosed drugs'); debt22.
    label_induction_drugs: Words


class ImmuneRules(Strict):
    """``immune.yaml``: immunocompetent and other immunocompromised patients (I1–I5)."""

    severe_organs: Words
    severe_severities: Words
    supportive_care: Words
    immunocompromised_treated_diseases: Words
    icu_no_prophylaxis: Words
    icu_no_preemptive: Words


class MonitoringItem(Fact):
    """A check due every ``every_days`` while a drug is given (for the listed indications/populations)."""

    event: str
    every_days: int = Field(ge=1, le=365)
    indications: tuple[str, ...] = ()
    populations: tuple[str, ...] = ()
    reason: str


class DrugMonitoring(Strict):
    drug: str
    items: tuple[MonitoringItem, ...] = Field(min_length=1)


class RegimenMonitoring(Strict):
    """``monitoring.yaml``: monitoring of every regimen these pathways recommend (transplant-hiv.md §6)."""

    open_course_horizon_days: Value
    drugs: tuple[DrugMonitoring, ...] = Field(min_length=1)

    def items(self, drug: str, indication: str, population: str) -> tuple[MonitoringItem, ...]:
        for entry in self.drugs:
            if entry.drug == drug:
                return tuple(
                    i
                    for i in entry.items
                    if (not i.indications or indication in i.indications)
                    and (not i.populations or population in i.populations)
                )
        return ()


class Statement(Fact):
    """A knowledge statement shown as written, with its sources."""

    text: str


class DoseExample(Strict):
    """A dose the overview computes for its reference adult; ``note`` is said after it (e.g. that
    a label's induction period is not the transplant course)."""

    drug: str
    indication: str
    regimen: str | None = None
    route: str | None = None
    organ: str | None = None
    title: str | None = None
    note: str | None = None


class ReferencePatient(Fact):
    """The adult for whom the overview shows label doses (normal renal function)."""

    age_years: Decimal
    sex: Literal["female", "male"]
    weight_kg: Decimal
    height_cm: Decimal
    creatinine_mg_dl: Decimal
    urine_protein: str


class OverviewSection(Strict):
    kind: Literal[
        "summary",
        "prevention",
        "first_line",
        "alternatives",
        "doses",
        "durations",
        "monitoring",
        "resistance",
        "settings",
    ]
    title: str
    statements: tuple[Statement, ...] = ()
    generate: (
        Literal[
            "sot_prevention",
            "hsct_prevention",
            "doses",
            "monitoring",
            "resistance_options",
            "settings",
            "treatment_durations",
            "hiv_durations",
            "congenital_plan",
            "pregnancy_plan",
        ]
        | None
    ) = None
    doses: tuple[DoseExample, ...] = ()


class ContextOverview(Strict):
    title: str
    sections: tuple[OverviewSection, ...] = Field(min_length=1)


class Overview(Strict):
    """``overview.yaml``: the sections of ``cmvcds explain CONTEXT`` for each context."""

    reference_patient: ReferencePatient
    wording: dict[str, str]
    contexts: dict[str, ContextOverview]
