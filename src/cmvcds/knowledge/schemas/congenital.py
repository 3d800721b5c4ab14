"""Schema of ``data/congenital/``: who qualifies for valganciclovir for congenital CMV, and the plan.

One document, ``criteria.yaml``, holds the rules of the congenital pathway (N1–N4 of
../shared/clinical/pregnancy-congenital.md §4): how a congenital infection is confirmed, the trial
population of Kimberlin 2015, the manifestations that make disease moderate/severe (Rawlinson
2017), the policy for each disease category and the treatment plan. Doses are not here: they come
from the dosing tables (``data/drugs/``) through ``engine/dosing.py``.
"""

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict

Category = Literal["moderate_severe", "mild", "asymptomatic", "isolated_snhl"]
PolicyOutcome = Literal["recommended", "not_indicated", "specialist_review"]


class DiagnosisRule(Fact):
    """A congenital infection is confirmed by PCR on these specimens within ``max_age_days``."""

    confirming_specimens: tuple[str, ...] = Field(min_length=1)
    max_age_days: int = Field(ge=0)
    late_specimens: tuple[str, ...] = ()


class TrialPopulation(Fact):
    """The population the evidence covers: outside it the answer is specialist review (N1)."""

    max_start_age_days: int = Field(ge=0)
    min_gestational_age_weeks: int = Field(ge=20, le=44)
    min_weight_kg: Decimal = Field(gt=0)


class Manifestation(Fact):
    """One manifestation of the case vocabulary and its group (systemic or central nervous system)."""

    name: str
    group: Literal["systemic", "cns"]


class SeverityRule(Fact):
    """Moderate/severe: any CNS involvement, or at least ``moderate_min_systemic`` systemic findings."""

    moderate_min_systemic: int = Field(ge=1)
    snhl_counts_as_cns: bool = True


class CategoryPolicy(Fact):
    """What the pathway answers for a disease category (N1, N2)."""

    category: Category
    outcome: PolicyOutcome
    setting: str | None = None
    reason: str


class TreatmentPlan(Fact):
    """The regimen of N3–N4: drug and route (dose from the dosing tables), duration in months."""

    drug: str
    route: Literal["oral", "iv"]
    indication: Literal["congenital"]
    duration_months: int = Field(ge=1)
    iv_alternative_drug: str
    stop_rule: str


class RenalEntry(Fact):
    """The trial's renal entry criterion (probe11 S2): the infant's renal function, estimated with
    the valganciclovir label's Schwartz (its k table for infants), must be at least
    ``min_crcl_ml_min_1_73m2``; below it the infant is outside the trial population and the
    full 16 mg/kg regimen (no renal adjustment in its source) is a specialist's decision."""

    min_crcl_ml_min_1_73m2: Decimal = Field(gt=0)
    action: str


class GenotypeAction(Fact):
    """A reported resistance genotype read in the congenital decision (probe11 S1): a drug of the
    plan the genotype confers resistance to is not continued without a specialist."""

    action: str
    no_mutation: str


class RunningNotIndicated(Fact):
    """A course running in an infant whose disease category is not treated (probe11 W2)."""

    action: str


class CongenitalCriteria(Strict):
    """``congenital/criteria.yaml``."""

    diagnosis: DiagnosisRule
    trial_population: TrialPopulation
    manifestations: tuple[Manifestation, ...] = Field(min_length=1)
    severity: SeverityRule
    policies: tuple[CategoryPolicy, ...] = Field(min_length=1)
    plan: TreatmentPlan
    renal_entry: RenalEntry | None = None
    genotype: GenotypeAction | None = None
    running_not_indicated: RunningNotIndicated | None = None

    @model_validator(mode="after")
    def _every_category_once(self) -> "CongenitalCriteria":
        categories = [p.category for p in self.policies]
        if sorted(categories) != sorted(set(categories)):
            raise ValueError("each category has one policy")
        return self

    def group_of(self, manifestation: str) -> str | None:
        for row in self.manifestations:
            if row.name == manifestation:
                return row.group
        return None

    def policy(self, category: str) -> "CategoryPolicy":
        for row in self.policies:
            if row.category == category:
                return row
        raise KeyError(category)


class FollowUpVisit(Fact):
    """A long-term follow-up check of an infant with congenital CMV, counted from birth.

    Planned at ``from_months``, then every ``every_months`` while ``≤ until_months`` (calendar
    months from the birth date); ``categories`` limits it to those disease categories (empty:
    every infant whose congenital infection is confirmed).
    """

    id: str
    event: Literal["hearing", "ophthalmology", "neurodevelopment"]
    from_months: int = Field(ge=0)
    every_months: int = Field(ge=1)
    until_months: int = Field(ge=0)
    categories: tuple[Category, ...] = ()
    reason: str

    @model_validator(mode="after")
    def _ordered(self) -> "FollowUpVisit":
        if self.until_months < self.from_months:
            raise ValueError(f"{self.id}: until_months before from_months")
        return self


class HearingChange(Fact):
    """When a recorded hearing threshold (dB HL, one per ear and date) is a hearing loss
    (``≥ loss_from_db``) and when a later one is a deterioration of that ear: a new loss after a
    result without one, or ``worse_by_db`` above the ear's best earlier threshold."""

    loss_from_db: Decimal = Field(gt=0)
    worse_by_db: Decimal = Field(gt=0)
    action: str


class AbnormalResult(Fact):
    """What an abnormal eye or developmental result asks for."""

    assessment: Literal["ophthalmology", "neurodevelopment"]
    action: str


class LongCourseReview(Fact):
    """Seed 001: a course continued beyond its planned months is weighed on what ``shows`` lists."""

    shows: str


class FollowUpCalendar(Fact):
    """``follow_up.yaml``: the audiology, ophthalmology and neurodevelopment calendar to school
    age, what a recorded result means, and the risk–benefit review of a long course."""

    visits: tuple[FollowUpVisit, ...] = Field(min_length=1)
    hearing_change: HearingChange
    abnormal_results: tuple[AbnormalResult, ...] = Field(min_length=1)
    long_course_review: LongCourseReview

    def abnormal(self, assessment: str) -> AbnormalResult | None:
        return next((r for r in self.abnormal_results if r.assessment == assessment), None)
