"""Schema of the observation catalogue: codes, accepted units, conversions and plausible ranges."""


from decimal import Decimal

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict


class UnitSpec(Strict):
    """An accepted unit; ``divide_by`` converts to the code's canonical unit (None: its own scale),
    or ``multiply_by`` where the definition is a product (1 [lb_av] = 0.45359237 kg exactly, whose
    inverse has no finite decimal: probe14 F6)."""

    unit: str
    aliases: tuple[str, ...] = ()
    divide_by: Decimal | None = Decimal(1)
    multiply_by: Decimal | None = None


class ObservationSpec(Fact):
    """One observation code of the case format (design.md §3)."""

    label: str
    canonical_unit: str | None = None
    units: tuple[UnitSpec, ...] = ()
    plausible: tuple[Decimal, Decimal] | None = None
    results: tuple[str, ...] = ()
    specimens: tuple[str, ...] = ()
    default_specimen: str | None = None

    @model_validator(mode="after")
    def _range_ordered(self) -> "ObservationSpec":
        if self.plausible and self.plausible[0] >= self.plausible[1]:
            raise ValueError("plausible range must be increasing")
        return self


class ObservationCatalogue(Strict):
    """``core/observations.yaml``: every observation code a case may carry."""

    codes: dict[str, ObservationSpec] = Field(min_length=1)


class WeightForAge(Strict):
    """Below ``below_age_days`` of age, a weight above ``weight_kg_max`` (or below
    ``weight_kg_min``) is implausible."""

    below_age_days: int = Field(gt=0)
    weight_kg_max: Decimal = Field(gt=0)
    weight_kg_min: Decimal = Field(default=Decimal(0), ge=0)


class WeightChange(Fact):
    """How far one weight may differ from the patient's previous weight before it is doubted.

    Two weights at most ``within_days`` apart are compared: the later one below
    ``lowest_ratio`` × the earlier, or above (1 + ``highest_gain_per_30_days`` × days / 30) × the
    earlier (days counted as at least 30), is a typing or unit error until checked: no dose is
    computed on it (insufficient data: check the weight)."""

    within_days: int = Field(gt=0)
    lowest_ratio: Decimal = Field(gt=0, lt=1)
    highest_gain_per_30_days: Decimal = Field(gt=0)


class MaternalAge(Fact):
    """The ages (whole years, both ends included) at which a pregnancy is plausible input."""

    years: tuple[Decimal, Decimal]


class ComputedClearance(Fact):
    """A creatinine clearance computed from creatinine, age, weight and sex above
    ``above_ml_min`` mL/min is implausible: an input is wrong (a creatinine in µmol/L typed as
    mg/dL, a weight in pounds) or the formula does not hold; no dose is computed on it."""

    above_ml_min: Decimal = Field(gt=0)
    #: review12 S3: obesity explains a clearance above the limit only when the weight itself is
    #: plausible for the height (body-mass index at most this); above it a weight in pounds is
    #: the likelier reading and the refusal stands.
    obese_bmi_max: Decimal = Field(gt=0)


class WeightConfirmation(Fact):
    """A per-kg dose on a weight whose body-mass index is at least ``bmi_min`` (WHO class III
    obesity) is given with a warning to confirm the weight is in kilograms: a weight in pounds
    looks like severe obesity and gives 2.2 times the dose (review12 S3, fixr12's open gap)."""

    bmi_min: Decimal = Field(gt=0)


class PlausibilityLimits(Fact):
    """Limits on case values outside observations (weight, height, gestational age, age)."""

    weight_kg: tuple[Decimal, Decimal]
    birth_weight_kg: tuple[Decimal, Decimal]
    weight_for_age: tuple[WeightForAge, ...]
    height_cm: tuple[Decimal, Decimal]
    age_years: tuple[Decimal, Decimal]
    gestational_age_max_days: int
    fetuses_max: int
    weight_change: WeightChange
    maternal_age: MaternalAge
    computed_crcl: ComputedClearance
    weight_confirmation: WeightConfirmation


class Vocabularies(Fact):
    """``core/vocabularies.yaml``: the closed word lists of the case format."""

    ultrasound_findings: tuple[str, ...]
    congenital_manifestations: tuple[str, ...]
    disease_organs: tuple[str, ...]
    hsct_risk: tuple[str, ...]
    stop_reasons: tuple[str, ...]
    drugs: tuple[str, ...]
    genes: tuple[str, ...]
    #: probe13 N2: other spellings of a drug of ``drugs`` (the INN where the case format uses the
    #: USAN: valaciclovir → valacyclovir), read as that drug wherever a drug name is read
    drug_synonyms: dict[str, str] = Field(default_factory=dict)

    def canonical_drug(self, name: str) -> str:
        """``name`` as the case format spells it (``valaciclovir`` → ``valacyclovir``)."""
        return self.drug_synonyms.get(name.strip().lower(), name)


class SettingSpec(Fact):
    """An institutional setting a site may (and sometimes must) choose, with its allowed range.

    ``allowed`` is a hard range (outside it the settings file is refused); ``guideline`` is the
    range the cited guideline gives (outside it the output carries a ``config-range`` alert).
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_.]*$")
    description: str
    type: str = Field(pattern=r"^(number|integer|boolean|choice)$")
    unit: str | None = None
    choices: tuple[str, ...] = ()
    allowed: tuple[Decimal, Decimal] | None = None
    guideline: tuple[Decimal, Decimal] | None = None


class SettingCatalogue(Strict):
    """A domain's ``*_settings`` table: the settings its decisions may need."""

    settings: tuple[SettingSpec, ...]


class ReferenceValue(Fact):
    """One row of the reference profile: the value a guideline prefers for an institutional setting.

    ``value`` is the guideline's preferred value (for a range: the value it names first, or the one
    the pivotal trial used); None when no guideline gives one (then ``basis`` says so and the site
    must choose), or when the pack's own table named in ``knowledge_table`` already gives the value
    used while the site has not chosen. ``basis`` states in one line why this value.
    """

    setting: str = Field(pattern=r"^[a-z][a-z0-9_.]*$")
    value: StrictBool | StrictInt | StrictStr | Decimal | None = Field(union_mode="left_to_right")
    basis: str
    knowledge_table: str | None = None

    @model_validator(mode="after")
    def _one_default(self) -> "ReferenceValue":
        if self.value is not None and self.knowledge_table is not None:
            raise ValueError("a reference row gives a value or names a knowledge table, not both")
        return self


class ReferenceProfile(Strict):
    """``core/reference-profile.yaml``: the guideline default of every institutional setting."""

    values: tuple[ReferenceValue, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "ReferenceProfile":
        names = [row.setting for row in self.values]
        if len(names) != len(set(names)):
            raise ValueError("a setting appears twice in the reference profile")
        return self


class Rule(Fact):
    """A named rule of a pathway (T4, H6, N1 …), as a clinician reads it; decisions cite the id.

    The text states the logic; the numbers it uses live in the pathway's tables and settings,
    never in the rule text.
    """

    id: str = Field(pattern=r"^[A-Z]{1,2}-?\d+[a-z]?$")
    title: str
    text: str


class RuleBook(Strict):
    """A domain's ``rules.yaml``: the rules its decisions cite by id."""

    rules: tuple[Rule, ...] = Field(min_length=1)
