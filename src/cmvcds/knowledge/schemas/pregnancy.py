"""Schema of the pregnancy tables: the AIFA Law 648/96 valacyclovir protocol as data.

``pregnancy/protocol.yaml`` holds the protocol's numbers (gestational-age limits, intervals,
exclusion thresholds, fetal-blood thresholds), each a cited ``Fact`` with the comparison written
out (``lt``, ``gt`` …) so that the strictness of every inequality is data, not code.
``pregnancy/fetal-signs.yaml`` classifies each ultrasound finding of the case vocabulary under
Table 1 (extracerebral, isolated cerebral, severe cerebral), with its measurement condition.
``pregnancy/timing.yaml`` defines the periods of maternal infection (preconceptional,
periconceptional, trimesters) in days from the LMP. ``pregnancy/monitoring.yaml`` is Table 2
(monitoring during valacyclovir), and ``pregnancy/rules.yaml`` names the rules and the default
interpretations (A1–A9, I-1 …) that decisions cite by id. ``pregnancy/dating.yaml`` holds the
ACOG redating thresholds used when an LMP and a dating scan disagree.
"""

import re
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict

Comparison = Literal["lt", "le", "gt", "ge"]

__all__ = [
    "Comparison",
    "DatingRules",
    "FetalSign",
    "FetalSignTable",
    "GaLimit",
    "Interval",
    "MonitoringItem",
    "MonitoringTable",
    "PregnancyProtocol",
    "RedatingBand",
    "Rule",
    "RuleBook",
    "Specimens",
    "Threshold",
    "TimingTable",
]


def holds(value: Decimal, comparison: Comparison, limit: Decimal) -> bool:
    """Whether ``value <comparison> limit`` holds (the comparison as written in the source)."""
    if comparison == "lt":
        return value < limit
    if comparison == "le":
        return value <= limit
    if comparison == "gt":
        return value > limit
    return value >= limit


GA_PATTERN = r"^\d{1,2}\+[0-6]$"


@lru_cache(maxsize=1024)
def ga_days(text: str) -> int:
    """``"20+1"`` → 141 (the knowledge layer cannot import domain.GestationalAge).

    Remembered by text (``lru_cache``, every valid w+d fits: at most 700): a pregnancy case asks
    for the protocol's landmarks ~9 times, and each was a regular-expression match (issue 20);
    an invalid text raises every time, it is never remembered."""
    match = re.match(GA_PATTERN, text)
    if not match:
        raise ValueError(f"{text!r} is not a gestational age w+d")
    weeks, days = text.split("+")
    return int(weeks) * 7 + int(days)


SYMBOLS: dict[str, str] = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}


class GaLimit(Fact):
    """A gestational age written ``w+d`` (e.g. ``20+1``); ``wording``: the primary text's own
    words where an interpretation of them is shown to clinicians (I-1)."""

    ga: str = Field(pattern=GA_PATTERN)
    wording: str | None = None

    @property
    def days(self) -> int:
        return ga_days(self.ga)


class Interval(Fact):
    """A number of days (e.g. 56 days = 8 weeks from the maternal onset to the amniocentesis)."""

    days: int = Field(ge=0)


class Threshold(Fact):
    """``value <comparison> limit`` (in ``unit``) meets the rule; the comparison is as printed."""

    comparison: Comparison
    limit: Decimal
    unit: str

    def met_by(self, value: Decimal) -> bool:
        return holds(value, self.comparison, self.limit)

    def text(self) -> str:
        return f"{SYMBOLS[self.comparison]} {_number(self.limit)} {self.unit}".rstrip()


class Specimens(Fact):
    """A list of specimens (maternal specimens whose CMV DNA meets criterion (c))."""

    specimens: tuple[str, ...] = Field(min_length=1)


class PregnancyProtocol(Strict):
    """``pregnancy/protocol.yaml``: the numbers of the AIFA 648/96 valacyclovir protocol."""

    prevention_onset_before: GaLimit
    amniocentesis_after_onset: Interval
    amniocentesis_not_before: GaLimit
    stop_without_amniocentesis: GaLimit
    exclusion_age: Threshold
    exclusion_creatinine: Threshold
    exclusion_egfr: Threshold
    #: probe13 S1: dialysis (kidney replacement therapy) is a glomerular filtration below the limit.
    exclusion_dialysis: Fact
    computed_egfr: Fact
    primary_dna_specimens: Specimens
    fetal_viraemia: Threshold
    fetal_platelets: Threshold
    multiple_pregnancy_dose: Fact
    written_consent: Fact
    late_transmission: Fact
    fetal_treatment_until_delivery: Fact
    pregnancy_length: Interval
    #: I-14: a high IgG avidity dates the onset at least this many days before its sample.
    high_avidity_onset_before: Interval


class Measurement(Strict):
    """The measurement condition of a finding: ``field <comparison> limit``."""

    field: Literal[
        "bowel_grade", "placenta_mm", "ventricle_mm", "cisterna_magna_mm", "head_circumference_sd"
    ]
    comparison: Comparison
    limit: Decimal
    unit: str = ""

    def met_by(self, value: Decimal) -> bool:
        return holds(value, self.comparison, self.limit)

    def text(self) -> str:
        return f"{self.field.replace('_', ' ')} {SYMBOLS[self.comparison]} {_number(self.limit)} {self.unit}".rstrip()


class FetalSign(Fact):
    """One Table 1 row: a case-vocabulary finding, its category and its measurement condition.

    A finding with several rows (ventriculomegaly: < 15 mm mild, ≥ 15 mm severe) is classified by
    the first row whose condition holds; a finding whose measurement is absent cannot be classified.
    """

    finding: str
    category: Literal["extracerebral", "isolated_cerebral", "severe_cerebral"]
    label: str
    when: Measurement | None = None
    defined_by: Measurement | None = None
    """The measurement the finding's name implies (ventriculomegaly: atrium ≥ 10 mm). A named
    finding whose measurement does not meet it is contradictory; a measurement given without the
    name counts as the finding only when it meets it (I-12)."""


class FetalSignTable(Strict):
    """``pregnancy/fetal-signs.yaml``: AIFA Table 1, keyed by the ultrasound vocabulary."""

    signs: tuple[FetalSign, ...] = Field(min_length=1)
    isolated_means_single: Fact
    measurement_decides: Fact

    def rows_measured_by(self, field: str) -> dict[str, list[FetalSign]]:
        """The Table 1 rows decided by ``field``, by finding (I-12)."""
        found: dict[str, list[FetalSign]] = {}
        for sign in self.signs:
            if (sign.when and sign.when.field == field) or (
                sign.defined_by and sign.defined_by.field == field
            ):
                found.setdefault(sign.finding, []).append(sign)
        return found

    @model_validator(mode="after")
    def _measured_rows_cover(self) -> "FetalSignTable":
        seen: dict[str, bool] = {}
        for sign in self.signs:
            if sign.finding in seen and (sign.when is None or seen[sign.finding]):
                raise ValueError(f"finding {sign.finding!r}: several rows need a condition on each")
            seen[sign.finding] = sign.when is None
        return self


class Period(Strict):
    """A period of maternal infection, days from the LMP (``from_day`` inclusive, ``to_day`` inclusive)."""

    name: str
    label: str
    from_day: int | None = None
    to_day: int | None = None


class TimingTable(Strict):
    """``pregnancy/timing.yaml``: periods of maternal infection relative to the LMP."""

    periconceptional: Period
    periconceptional_source: Fact
    #: I-13: a CMV IgG positive before the periconceptional window makes an infection non-primary.
    preconceptional_immunity: Fact
    trimesters: tuple[Period, ...] = Field(min_length=3)
    trimesters_source: Fact


class MonitoringItem(Fact):
    """One Table 2 row: an event at fixed day offsets from the start, then every ``every_days``."""

    event: Literal["renal-function", "blood-count", "liver-function", "fetal-ultrasound"]
    applies_to: tuple[Literal["prevention", "fetal-treatment"], ...] = Field(min_length=1)
    at_days: tuple[int, ...] = ()
    every_days: int | None = Field(default=None, gt=0)
    reason: str


class MonitoringTable(Strict):
    """``pregnancy/monitoring.yaml``: AIFA Table 2 (monitoring during valacyclovir)."""

    items: tuple[MonitoringItem, ...]


class Rule(Fact):
    """A named rule (A1 …) or default interpretation (I-1 …) of the protocol, as a clinician reads it."""

    id: str = Field(pattern=r"^(A\d+|I-\d+)$")
    title: str
    text: str


class RuleBook(Strict):
    """``pregnancy/rules.yaml``: the rules and interpretations decisions cite by id."""

    rules: tuple[Rule, ...] = Field(min_length=1)

    def get(self, rule_id: str) -> "Rule":
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


class RedatingBand(Strict):
    """Scan at GA ≤ ``up_to`` (``w+d``): redate when the discrepancy exceeds ``more_than_days``."""

    up_to: str | None = Field(default=None, pattern=GA_PATTERN)
    more_than_days: int = Field(ge=0)


class DatingRules(Fact):
    """``pregnancy/dating.yaml``: ACOG redating thresholds (LMP vs dating ultrasound)."""

    bands: tuple[RedatingBand, ...] = Field(min_length=1)


class MarketedPack(Fact):
    """A pack of a medicinal product marketed in Italy, as its AIC authorisation prints it."""

    drug: str = Field(pattern=r"^[a-z][a-z-]*$")
    product: str
    strength_mg: Decimal = Field(gt=0)
    form: Literal["tablet"]
    units: int = Field(gt=0)
    aic: str = Field(pattern=r"^\d{9}$")


class MonitoringRecordItem(Fact):
    """A datum the prescriber records for the Law 648/96 monitoring, in English and Italian."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    when: Literal["start", "during", "end", "report"]
    what: str
    what_it: str


class PharmacyDossier(Strict):
    """``pregnancy/law648.yaml``: what the 648/96 dossier adds for the pharmacy and the monitoring:
    the packs it can dispense from, and the data the prescriber records."""

    packs: tuple[MarketedPack, ...] = Field(min_length=1)
    record: tuple[MonitoringRecordItem, ...] = Field(min_length=1)

    def packs_of(self, drug: str, strength_mg: Decimal) -> list[MarketedPack]:
        """The packs of ``drug`` at ``strength_mg``, in file order."""
        return [p for p in self.packs if p.drug == drug and p.strength_mg == strength_mg]


def _number(value: Decimal) -> str:
    text = f"{value:,.10f}".rstrip("0").rstrip(".")
    return text
