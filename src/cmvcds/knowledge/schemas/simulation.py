"""Schema of the screening-simulation tables: every model input a cited row with its range.

``simulation/parameters.yaml`` holds the population model of ``cmvcds simulate`` (issue 21):
seroprevalence, incidence of primary infection, test performance, uptake, transmission by
gestational age, the valacyclovir effect, outcomes, costs (euros, with their price year) and
QALY losses. Each row has a base value, the range that the probabilistic sensitivity analysis
draws from (``distribution``) and its sources; an unverified row says so. The loader refuses a
base outside its range, a probability outside 0-1 and a cost without its currency and year.
``simulation/published.yaml`` holds the base-case inputs and headline counts of published models
that the simulator is checked against (docs/simulation.md). ``simulation/seroprevalence.yaml``
holds seroprevalence by region and age band (``cmvcds simulate --population``).
"""


from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict

__all__ = [
    "Parameter", "ParameterTable", "Population", "PublishedModel", "PublishedModels", "Quantity",
    "SeroprevalenceTable",
]  # fmt: skip

Quantity = Literal["probability", "odds_ratio", "relative_risk", "weeks", "cost", "qaly"]
Distribution = Literal["beta", "lognormal", "uniform", "triangular", "fixed"]


class Parameter(Fact):
    """One model input: base value, range (``low``–``high``) and how PSA samples it.

    ``beta`` (probabilities) and ``lognormal`` (ratios, costs) are fitted so that the range is
    their central 95 %; ``uniform`` and ``triangular`` span the range; ``fixed`` is not varied.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    quantity: Quantity
    base: float
    low: float
    high: float
    distribution: Distribution
    currency: Literal["EUR"] | None = None
    price_year: int | None = Field(default=None, ge=2000, le=2100)

    @model_validator(mode="after")
    def _coherent(self) -> "Parameter":
        if not self.low <= self.base <= self.high:
            raise ValueError(f"{self.id}: base {self.base} outside its range {self.low}-{self.high}")
        if self.quantity == "probability" and not 0 <= self.low <= self.high <= 1:
            raise ValueError(f"{self.id}: a probability must lie between 0 and 1")
        if self.quantity in ("odds_ratio", "relative_risk", "cost", "weeks", "qaly") and self.low < 0:
            raise ValueError(f"{self.id}: a {self.quantity} cannot be negative")
        if self.quantity == "cost" and (self.currency is None or self.price_year is None):
            raise ValueError(f"{self.id}: a cost needs its currency and price_year")
        if self.quantity != "cost" and (self.currency or self.price_year):
            raise ValueError(f"{self.id}: only a cost has a currency and price_year")
        if self.distribution == "fixed" and self.low != self.high:
            raise ValueError(f"{self.id}: a fixed parameter has low == base == high")
        if self.distribution == "beta" and self.quantity != "probability":
            raise ValueError(f"{self.id}: a beta distribution is for probabilities")
        if self.distribution == "lognormal" and self.low <= 0:
            raise ValueError(f"{self.id}: a lognormal range must be positive")
        return self


class ParameterTable(Strict):
    """``simulation/parameters.yaml``: the rows, ids unique."""

    parameters: tuple[Parameter, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "ParameterTable":
        _refuse_duplicates("parameter", [p.id for p in self.parameters])
        return self

    def by_id(self) -> dict[str, Parameter]:
        """The rows keyed by id."""
        return {p.id: p for p in self.parameters}


class PublishedModel(Fact):
    """A published decision model: its own base-case inputs and the headline count it reports.

    ``inputs`` override rows of ``parameters.yaml`` (by id); ``strategy`` and ``reference`` name
    the simulator's strategies that correspond to the paper's; ``outcome`` is an output key of
    the simulator, compared per ``per`` pregnancies with ``tolerance`` (relative). A count
    (not ``*_averted``) under a ``strategy`` other than its ``reference`` is compared as the
    difference, strategy minus reference (e.g. detections at a repeat visit only);
    ``repeat_weeks`` is the paper's schedule of repeated serology, when it has one.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str
    inputs: dict[str, float]
    strategy: str
    reference: str
    repeat_weeks: tuple[int, ...] | None = None
    outcome: Literal[
        "fetal_infections_averted", "symptomatic_averted", "sequelae_averted", "fetal_infections",
        "primary_infections", "primary_detected",
    ]
    reported: float
    per: int = Field(gt=0)
    tolerance: float = Field(gt=0, le=1)


class PublishedModels(Strict):
    """``simulation/published.yaml``."""

    models: tuple[PublishedModel, ...] = Field(min_length=1)


class Population(Fact):
    """CMV IgG seroprevalence of pregnant women in one region (and age band, when given)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str
    region: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    age_min: int | None = Field(default=None, ge=10, le=60)
    age_max: int | None = Field(default=None, ge=10, le=60)
    base: float
    low: float
    high: float

    @model_validator(mode="after")
    def _coherent(self) -> "Population":
        if not 0 < self.low <= self.base <= self.high < 1:
            raise ValueError(f"{self.id}: a seroprevalence needs 0 < low <= base <= high < 1")
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError(f"{self.id}: age_min above age_max")
        return self

    def as_parameter(self) -> Parameter:
        """This row in place of the ``seroprevalence`` parameter (beta over its range)."""
        return Parameter(
            id="seroprevalence", label=f"CMV IgG seroprevalence at booking: {self.label}", quantity="probability",
            base=self.base, low=self.low, high=self.high, distribution="beta", citations=self.citations,
            verified=self.verified, note=self.note,
        )  # fmt: skip


class SeroprevalenceTable(Strict):
    """``simulation/seroprevalence.yaml``: ids unique."""

    populations: tuple[Population, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "SeroprevalenceTable":
        _refuse_duplicates("population", [p.id for p in self.populations])
        return self


def _refuse_duplicates(what: str, ids: list[str]) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{what} ids defined twice: {duplicates}")
