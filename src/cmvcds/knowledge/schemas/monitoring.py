"""Schema of ``data/monitoring/``: what to check during anti-CMV therapy, and when to alert.

Five documents, one per question the monitoring pathway asks of a course in ``case.therapy``:
``schedules.yaml`` (the surveillance calendar), ``toxicity.yaml`` (blood-count limits with their
hold/resume levels, renal decline), ``kinetics.yaml`` (viral-load rise, refractory CMV, which genes
to genotype), ``tdm.yaml`` (ganciclovir AUC12 target and high exposure) and ``evidence.yaml``
(how long each course has evidence for). Every number is a cited ``Fact``; project choices cite
``cmvcds2026-monitoring-policy``.
"""


from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict

ScheduleEventName = Literal[
    "viral-load",
    "blood-count",
    "renal-function",
    "liver-function",
    "dose-review",
    "hearing",
    "ophthalmology",
]
ContextName = Literal[
    "pregnancy", "congenital", "transplant", "hiv", "immunocompromised", "immunocompetent"
]


class Scoped(Fact):
    """A row that applies to courses of ``drugs`` in ``contexts`` (empty: every context)."""

    contexts: tuple[ContextName, ...] = ()
    drugs: tuple[str, ...] = Field(min_length=1)

    def applies(self, context: str, drug: str) -> bool:
        return drug in self.drugs and (not self.contexts or context in self.contexts)


class ScheduleRule(Scoped):
    """A recurring check during a course, counted from the course start (day 0).

    ``at_weeks``: single checks at these weeks (week n = day 7n). ``monthly_from``: every
    calendar month from this month (start + n months, n = monthly_from, monthly_from + 1, …).
    """

    id: str
    event: ScheduleEventName
    at_weeks: tuple[int, ...] = ()
    monthly_from: int | None = Field(default=None, ge=1)
    reason: str

    @model_validator(mode="after")
    def _some_pattern(self) -> "ScheduleRule":
        if not (self.at_weeks or self.monthly_from):
            raise ValueError("a schedule rule needs at_weeks or monthly_from")
        return self


class MonitoringSchedules(Strict):
    """``monitoring/schedules.yaml`` (infants; adults follow ``transplant/monitoring.yaml``)."""

    rules: tuple[ScheduleRule, ...] = Field(min_length=1)


class ResumeDose(Fact):
    """What one source says about the dose after a hold: ``fraction`` of the full dose (1 = full,
    0.5 = half) and, where it names one, the count it waits for; ``wording`` is the source's own."""

    fraction: Decimal = Field(gt=0, le=1)
    resume_above: Decimal | None = None
    wording: str


class BloodCountLimit(Scoped):
    """A blood-count limit: below ``hold_below`` the drug is held; restart above ``resume_above``.

    The comparison is strict as written (``< hold_below``; ``> resume_above``). ``*_setting``
    names an optional site setting that replaces the value (the sources disagree or are unread).
    ``resume_doses``: what each source says about the restart dose; when they differ the output
    shows every wording (``sources-differ``) rather than picking one.
    """

    id: str
    alert: Literal["neutropenia", "thrombocytopenia", "anemia"]
    code: Literal["anc", "platelets", "hemoglobin"]
    unit: str
    hold_below: Decimal = Field(gt=0)
    resume_above: Decimal | None = None
    hold_setting: str | None = None
    resume_setting: str | None = None
    action: str
    resume_doses: tuple[ResumeDose, ...] = ()
    #: days from a count that keeps the drug held to the next count (the recheck date the
    #: alert, the decision and the held regimen name; ADR 0031)
    recheck_days: int | None = Field(default=None, ge=1, le=14)

    @model_validator(mode="after")
    def _resume_above_hold(self) -> "BloodCountLimit":
        if self.resume_above is not None and self.resume_above < self.hold_below:
            raise ValueError("resume_above must not be below hold_below")
        return self


class RenalDecline(Fact):
    """Creatinine at or above ``ratio`` × the on-treatment baseline: re-dose (KDIGO AKI stage 1)."""

    ratio: Decimal = Field(gt=1)
    drugs: tuple[str, ...] = Field(min_length=1)


class ToxicityLimits(Strict):
    """``monitoring/toxicity.yaml``."""

    blood_counts: tuple[BloodCountLimit, ...] = Field(min_length=1)
    renal_decline: RenalDecline


class ResistanceRise(Fact):
    """D-4: a rise of at least ``rise_log10`` above the on-treatment nadir, confirmed on a repeat."""

    rise_log10: Decimal = Field(gt=0)
    specimens: tuple[str, ...] = Field(min_length=1)
    drugs: tuple[str, ...] = Field(min_length=1)


class RefractoryRule(Fact):
    """Chemaly 2019: after ``min_days`` of therapy a rise > ``refractory_above_log10`` is refractory.

    A load that has not fallen (change ≥ 0 and ≤ the threshold) is probable refractory.
    """

    contexts: tuple[ContextName, ...] = Field(min_length=1)
    drugs: tuple[str, ...] = Field(min_length=1)
    min_days: int = Field(ge=1)
    refractory_above_log10: Decimal = Field(gt=0)
    early_rise_days: int = Field(ge=1)


class GenotypingRule(Fact):
    """Send genotyping after ``min_exposure_days`` of cumulative exposure to ``exposure_drugs``."""

    min_exposure_days: int = Field(ge=0)
    exposure_drugs: tuple[str, ...] = Field(min_length=1)
    min_log10_iu_ml: Decimal | None = None


class BreakthroughRule(Fact):
    """T22 applied to breakthrough DNAemia during SOT prophylaxis (transplant-hiv.md §7.5).

    On ``rising_drugs`` a rising blood load leads to genotyping (gated by the genotyping exposure
    rule); on ``threshold_drugs`` a load at or above the site's ``threshold_setting`` does, once
    exposure to the drug reaches ``threshold_min_exposure_days`` (else specialist review).
    """

    populations: tuple[Literal["sot", "hsct"], ...] = Field(min_length=1)
    rising_drugs: tuple[str, ...] = Field(min_length=1)
    threshold_drugs: tuple[str, ...] = ()
    threshold_setting: str
    threshold_min_exposure_days: int = Field(ge=0)


class GeneRule(Fact):
    """The genes to sequence after exposure to ``drug``."""

    drug: str
    genes: tuple[str, ...] = Field(min_length=1)


class UnclassifiedDnaemia(Fact):
    """review12 W3: how urgent a quantified DNAemia is when the site's pre-emptive threshold is
    not set: critical at a rise of at least ``rise_log10`` from the previous result of the series
    (not detected counts as 1 IU/mL, as in the kinetics) or at a load of at least
    ``level_iu_ml`` IU/mL; a warning otherwise (within assay variability, low level)."""

    rise_log10: Decimal = Field(gt=0)
    level_iu_ml: Decimal = Field(gt=0)


class KineticsRules(Strict):
    """``monitoring/kinetics.yaml``."""

    resistance_rise: ResistanceRise
    refractory: RefractoryRule
    breakthrough: BreakthroughRule
    genotyping: GenotypingRule
    genes: tuple[GeneRule, ...] = Field(min_length=1)
    unclassified_dnaemia: UnclassifiedDnaemia

    def genes_after(self, drugs: set[str]) -> tuple[tuple[str, ...], tuple[GeneRule, ...]]:
        """The genes to test after exposure to ``drugs`` (in table order) and the rows used."""
        genes: list[str] = []
        rows = tuple(r for r in self.genes if r.drug in drugs)
        for row in rows:
            genes.extend(g for g in row.genes if g not in genes)
        return tuple(genes), rows


class TdmTarget(Scoped):
    """Ganciclovir AUC12 (mg·h/L): the target and the level from which exposure is high."""

    target_auc12: Decimal = Field(gt=0)
    high_at_or_above: Decimal = Field(gt=0)
    low_setting: str | None = None


class TdmRules(Strict):
    """``monitoring/tdm.yaml``."""

    targets: tuple[TdmTarget, ...] = Field(min_length=1)


class EvidenceDuration(Scoped):
    """The longest course the evidence covers for a drug in a context (calendar months or days)."""

    id: str
    months: int | None = Field(default=None, ge=1)
    days: int | None = Field(default=None, ge=1)
    risk: str

    @model_validator(mode="after")
    def _one_length(self) -> "EvidenceDuration":
        if (self.months is None) == (self.days is None):
            raise ValueError("give months or days")
        return self


class EvidenceDurations(Strict):
    """``monitoring/evidence.yaml``."""

    durations: tuple[EvidenceDuration, ...] = Field(min_length=1)
