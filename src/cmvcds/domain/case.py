"""The case format v1 (design.md §3): typed models, and the parser that refuses bad input.

A case is one patient on one assessment date. ``parse_case`` turns the raw mapping read from YAML,
JSON or a form into a ``Case`` or raises ``CaseFormatError`` listing *every* problem, each naming
its field and the accepted form. Strictness is the point: an unknown key, a unit that is not
accepted, a value outside the plausible range or a date that cannot be (a result after the
assessment date, a test before birth, an assessment in the future) never reaches the engine.

Observation values are converted once, here, to the canonical unit of their code (creatinine to
mg/dL); viral loads keep their own unit (IU/mL and copies/mL are never converted into each other).
"""

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from cmvcds.domain.gestational_age import DAYS_LMP_TO_EDD, GestationalAge
from cmvcds.domain.vocabulary import Context
from cmvcds.errors import CaseFormatError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.base import Strict
from cmvcds.knowledge.schemas.core import (
    ObservationCatalogue,
    ObservationSpec,
    PlausibilityLimits,
    UnitSpec,
    Vocabularies,
)
from cmvcds.knowledge.schemas.medications import MedicationCatalogue

__all__ = [
    "CASE_FORMAT",
    "Case",
    "Medication",
    "Observation",
    "Patient",
    "Pregnancy",
    "parse_case",
]

CASE_FORMAT: Literal["cmvcds-case/1"] = "cmvcds-case/1"


#: What ``isinstance`` is given below: a tuple built once (``int | float`` builds a union at
#: every call, and these run for every date and measurement of every case, issue 20).
_INT_OR_FLOAT = (int, float)
_NUMBER_TYPES = (int, float, Decimal)


def _not_a_number(value: Any) -> "Any":
    """Dates are ISO 8601 text (or YAML dates); a number is never read as a timestamp."""
    if type(value) is not str and isinstance(value, _INT_OR_FLOAT) and not isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date; use ISO 8601, e.g. 2026-03-02")
    return value


def _a_number(value: Any) -> "Any":
    """Measurements are numbers; text such as "64" or a boolean is a mistake, not a value."""
    if isinstance(value, bool) or not isinstance(value, _NUMBER_TYPES):
        raise ValueError(f"{value!r} is not a number")
    return value


#: A calendar date in a case (also avoids the ``date: date`` field/type name clash).
Date = Annotated[date, BeforeValidator(_not_a_number)]
#: A measured quantity: a JSON/YAML number, kept exact as a Decimal (and a number, never text,
#: in the published JSON schema: the validator refuses text).
Number = Annotated[Decimal, BeforeValidator(_a_number), WithJsonSchema({"type": "number"})]


class _Model(Strict):
    """A frozen part of a case that refuses unknown keys: a pydantic dataclass, read as a plain
    object (``Strict``, ADR 0033); its validators are built when the class is defined."""

    model_config = ConfigDict(extra="forbid")


def _gestational_age_text(value: str) -> str:
    """A validator's check that ``value`` reads as ``w+d`` (pydantic wants ValueError)."""
    try:
        GestationalAge.parse(value)
    except CaseFormatError as error:
        raise ValueError(error.message) from None
    return value


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class Serostatus(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class Patient(_Model):
    sex: Sex | None = None
    birth_date: Date | None = None
    age_years: Number | None = None
    weight_kg: Number | None = None
    height_cm: Number | None = None
    dialysis: Literal["none", "hemodialysis", "peritoneal", "crrt"] = "none"
    child_pugh: Literal["A", "B", "C"] | None = None
    can_take_oral: StrictBool | None = None
    birth_weight_for_gestational_age: Literal["low", "appropriate"] | None = None
    intolerances: tuple[str, ...] = ()
    icu: StrictBool | None = None

    def age_on(self, day: date) -> Decimal | None:
        """Age in years on ``day`` (whole years from a birth date; as given otherwise)."""
        if self.birth_date is not None:
            years = day.year - self.birth_date.year
            if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
                years -= 1
            return Decimal(years)
        return self.age_years

    def age_days_on(self, day: date) -> int | None:
        """Age in days on ``day`` (the day of birth is day 0); None without a birth date."""
        return (day - self.birth_date).days if self.birth_date else None


class Dating(_Model):
    """A dating scan: on ``date`` the gestational age was ``gestational_age``."""

    date: Date
    gestational_age: str

    @field_validator("gestational_age")
    @classmethod
    def _ga_form(cls, value: str) -> str:
        return _gestational_age_text(value)


class Pregnancy(_Model):
    lmp: Date | None = None
    edd: Date | None = None
    dating: Dating | None = None
    fetuses: StrictInt = Field(default=1, ge=1)
    symptom_onset: Date | None = None
    amniocentesis_declined: StrictBool = False
    amniocentesis_booked: Date | None = None

    def implied_lmps(self) -> list[tuple[date, str]]:
        """The LMP each dating given implies, with its basis (LMP, EDD, dating scan).

        Which dating wins is the pregnancy pathway's decision (ACOG redating rules); the parser
        only checks that each is plausible.
        """
        implied: list[tuple[date, str]] = []
        if self.lmp is not None:
            implied.append((self.lmp, "LMP"))
        if self.edd is not None:
            implied.append((self.edd - timedelta(days=DAYS_LMP_TO_EDD), "EDD"))
        if self.dating is not None:
            ga = GestationalAge.parse(self.dating.gestational_age)
            implied.append((self.dating.date - timedelta(days=ga.days), "dating scan"))
        return implied


class Observation(_Model):
    """A dated result. ``value``/``unit`` are canonical after parsing; ``given`` keeps the input."""

    date: Date
    code: str
    result: str | None = None
    value: Number | None = None
    unit: str | None = None
    specimen: str | None = None
    reported: Date | None = None
    fetus: StrictInt | None = Field(default=None, ge=1)
    hours_after_dose: Number | None = Field(default=None, ge=0, le=48)
    given: str | None = Field(default=None, exclude=True)


class Ultrasound(_Model):
    date: Date
    findings: tuple[str, ...] = ()
    fetus: StrictInt | None = Field(default=None, ge=1)
    bowel_grade: StrictInt | None = Field(default=None, ge=1, le=3)
    placenta_mm: Number | None = Field(default=None, gt=0, lt=150)
    ventricle_mm: Number | None = Field(default=None, gt=0, lt=60)
    cisterna_magna_mm: Number | None = Field(default=None, gt=0, lt=60)
    head_circumference_sd: Number | None = Field(default=None, gt=-15, lt=15)


class TherapyCourse(_Model):
    drug: str
    dose_mg: Number | None = Field(default=None, gt=0)
    dose_mg_per_kg: Number | None = Field(default=None, gt=0)
    every_h: Number | None = Field(default=None, gt=0)
    route: Literal["oral", "iv", "intravitreal"] | None = None
    start: Date
    stop: Date | None = None
    indication: str | None = None
    #: why the course stopped (``core/vocabularies.yaml`` ``stop_reasons``); needs ``stop``
    stop_reason: str | None = None


class Medication(_Model):
    """A dated course of a drug that is not a CMV antiviral (INN in lower case, as in the
    ``medications`` catalogue): immunosuppressants, nephrotoxic or myelosuppressive drugs, CYP3A
    inducers … ``stop`` is the last day taken (absent: still taken). The interaction rules and
    the immune-status pathways read the courses running on the assessment date, and the cidofovir
    rule the nephrotoxic ones stopped fewer than 7 days before it."""

    drug: str
    start: Date
    stop: Date | None = None

    def running_on(self, day: date) -> bool:
        return self.start <= day and (self.stop is None or self.stop >= day)


class Diagnosis(_Model):
    date: Date
    specimen: Literal["urine", "saliva", "blood", "dried_blood_spot"]


def _a(word: str) -> str:
    """``word`` with its indefinite article ("an ophthalmology", "a neurodevelopment")."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


class FollowUpResult(_Model):
    """One dated long-term follow-up result of an infant with congenital CMV (issue 14 item 9).

    ``hearing``: one ``ear`` and its ``threshold_db`` (dB HL, the audiologist's summary figure for
    that ear, e.g. the ABR threshold or the pure-tone average). ``ophthalmology`` and
    ``neurodevelopment``: ``result`` normal or abnormal (for development, abnormal = a delay or
    other concern). A key that does not belong to the assessment is refused.
    """

    date: Date
    assessment: Literal["hearing", "ophthalmology", "neurodevelopment"]
    ear: Literal["left", "right"] | None = None
    threshold_db: Number | None = Field(default=None, ge=-10, le=130)
    result: Literal["normal", "abnormal"] | None = None

    @model_validator(mode="after")
    def _keys_of_the_assessment(self) -> "FollowUpResult":
        if self.assessment == "hearing":
            if self.ear is None or self.threshold_db is None:
                raise ValueError("a hearing result needs ear (left or right) and threshold_db (dB HL)")
            if self.result is not None:
                raise ValueError("a hearing result is its threshold_db; result is for eye and development")
        elif self.ear is not None or self.threshold_db is not None:
            raise ValueError(f"{_a(self.assessment)} result has no ear or threshold_db; give result")
        elif self.result is None:
            raise ValueError(f"{_a(self.assessment)} result needs result (normal or abnormal)")
        return self


class Congenital(_Model):
    gestational_age_at_birth: str | None = None
    birth_weight_kg: Number | None = None
    diagnosis: Diagnosis | None = None
    manifestations: tuple[str, ...] = ()
    hearing: Literal["normal", "unilateral_snhl", "bilateral_snhl", "not_tested"] | None = None
    follow_up: tuple[FollowUpResult, ...] = ()

    @field_validator("gestational_age_at_birth")
    @classmethod
    def _ga_form(cls, value: str | None) -> str | None:
        return None if value is None else _gestational_age_text(value)


class Transplant(_Model):
    organ: Literal[
        "kidney", "liver", "heart", "lung", "pancreas", "kidney-pancreas", "intestine", "hsct"
    ]
    date: Date | None = None
    donor_cmv_igg: Serostatus | None = None
    recipient_cmv_igg: Serostatus | None = None
    allogeneic: StrictBool | None = None
    co_medications: tuple[str, ...] = ()
    hsct_risk: tuple[str, ...] = ()


class Retinitis(_Model):
    zone: Literal[1, 2, 3] | None = None
    active: StrictBool | None = None
    sight_threatening: StrictBool | None = None


class Hiv(_Model):
    on_art: StrictBool | None = None
    art_start: Date | None = None
    retinitis: Retinitis | None = None


class Presentation(_Model):
    disease: Literal["none", "asymptomatic_dnaemia", "cmv_syndrome", "tissue_invasive"] | None = (
        None
    )
    organs: tuple[str, ...] = ()
    severity: Literal["mild", "moderate", "severe", "life_threatening"] | None = None
    symptom_onset: Date | None = None
    course: Literal["improving", "stable", "worsening", "resolved"] | None = None


class Genotype(_Model):
    date: Date
    mutations: tuple[str, ...] = ()
    genes_tested: tuple[str, ...] = ()


class Case(_Model):
    """One patient on one assessment date, as the engine sees it (validated and normalised)."""

    format: Literal["cmvcds-case/1"] = CASE_FORMAT
    id: str = Field(
        min_length=1,
        max_length=128,
        # what ``_printable_id`` enforces, told to API clients (OpenAPI) as a pattern
        json_schema_extra={
            "pattern": r"^[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$"
        },
    )
    assessed_on: Date
    context: Context
    patient: Patient = Patient()
    pregnancy: Pregnancy | None = None
    observations: tuple[Observation, ...] = ()
    ultrasound: tuple[Ultrasound, ...] = ()
    therapy: tuple[TherapyCourse, ...] = ()
    medications: tuple[Medication, ...] = ()
    congenital: Congenital | None = None
    transplant: Transplant | None = None
    hiv: Hiv | None = None
    presentation: Presentation | None = None
    genotype: tuple[Genotype, ...] = ()

    def co_medications_on(self, day: date) -> tuple[str, ...]:
        """The drugs taken on ``day`` besides the CMV antivirals: the undated
        ``transplant.co_medications`` (taken as running) and every ``medications`` course running
        on ``day``, each once, in that order."""
        undated = self.transplant.co_medications if self.transplant else ()
        dated = tuple(m.drug for m in self.medications if m.running_on(day))
        return tuple(dict.fromkeys((*undated, *dated)))

    @property
    def carries_pregnancy(self) -> bool:
        """Whether the patient is pregnant, in any context: a ``pregnancy`` block, a fetal
        ultrasound examination, or an amniotic-fluid or fetal-blood result (issue 14 item 5)."""
        return (
            self.pregnancy is not None
            or bool(self.ultrasound)
            or any(o.specimen in ("amniotic_fluid", "fetal_blood") for o in self.observations)
        )

    @field_validator("id")
    @classmethod
    def _printable_id(cls, value: str) -> str:
        """An id is shown on pages, in logs and file names: no control or invisible characters."""
        if not value.isprintable() or value != value.strip():
            raise ValueError(
                "an id is printable text, without control or invisible characters "
                "or surrounding spaces"
            )
        return value

    def results(self, code: str, specimen: str | None = None) -> tuple[Observation, ...]:
        """Observations of ``code`` (and ``specimen``), oldest first (the engines ask ~15 times
        per case: the last case's index is read here, without a call, issue 20)."""
        observations = self.observations
        last = _LAST_INDEX[0]
        if last is not None and last[0] is observations:
            found = last[1].get(code, ())
        else:
            found = _by_code(observations).get(code, ())
        if specimen is None:
            return found
        return tuple(o for o in found if o.specimen == specimen)

    def latest(self, code: str, specimen: str | None = None) -> Observation | None:
        """The most recent observation of ``code`` with a value or result, or None."""
        found = self.results(code, specimen)
        return found[-1] if found else None

    def latest_genotype(self, on: date, since: date | None = None) -> Genotype | None:
        """The genotype reported last by date (on or before ``on``, on or after ``since``), the
        one every decision reads (fixr23a: never the last in list order). Reports of the same
        latest date are read together (their mutations and genes tested joined, in order): a
        mutation one of them found is not undone by another that missed it."""
        found = [g for g in self.genotype if g.date <= on and (since is None or g.date >= since)]
        if not found:
            return None
        day = max(g.date for g in found)
        same = [g for g in found if g.date == day]
        if len(same) == 1:
            return same[0]
        return Genotype(
            date=day,
            mutations=tuple(dict.fromkeys(m for g in same for m in g.mutations)),
            genes_tested=tuple(dict.fromkeys(x for g in same for x in g.genes_tested)),
        )


def _by_code(observations: tuple[Observation, ...]) -> dict[str, tuple[Observation, ...]]:
    """The observations of each code, oldest first (a stable sort: equal dates keep the case's
    order); built once per case and read many times (``results``: ~15 calls per assessment).
    The last case's index is kept (``memo``: by identity of the immutable tuple)."""
    last = _LAST_INDEX[0]
    if last is not None and last[0] is observations:
        return last[1]
    grouped: dict[str, list[Observation]] = {}
    for o in sorted(observations, key=lambda o: o.date):
        grouped.setdefault(o.code, []).append(o)
    index = {code: tuple(found) for code, found in grouped.items()}
    _LAST_INDEX[0] = (observations, index)
    return index


_LAST_INDEX: list[tuple[tuple[Observation, ...], dict[str, tuple[Observation, ...]]] | None] = [
    None
]


def _drug_synonyms(data: dict[str, Any], words: Vocabularies) -> dict[str, Any]:
    """``therapy[].drug`` and ``patient.intolerances`` spelt as the case format spells them:
    the INN ``valaciclovir``/``aciclovir`` is read as ``valacyclovir``/``acyclovir`` (probe13 N2;
    the pack's ``drug_synonyms`` row). Anything else is left for the validation to judge."""
    if not words.drug_synonyms:
        return data
    therapy = data.get("therapy")
    if isinstance(therapy, list):
        data["therapy"] = [
            {**t, "drug": words.canonical_drug(t["drug"])}
            if isinstance(t, dict) and isinstance(t.get("drug"), str)
            else t
            for t in therapy
        ]
    patient = data.get("patient")
    if isinstance(patient, dict) and isinstance(patient.get("intolerances"), list):
        data["patient"] = {
            **patient,
            "intolerances": [
                words.canonical_drug(d) if isinstance(d, str) else d
                for d in patient["intolerances"]
            ],
        }
    return data


def parse_case(raw: Any, knowledge: Knowledge, *, today: date) -> "Case":
    """Validate ``raw`` (a mapping from YAML/JSON/form) into a ``Case``; ``today`` is the real date.

    ``assessed_on`` defaults to ``today`` and may not lie after it. Raises ``CaseFormatError``
    whose ``problems`` lists every problem found, one line each, field first.
    """
    if not isinstance(raw, dict):
        raise CaseFormatError("a case must be a mapping of keys to values", field="(case)")
    data = _drug_synonyms(dict(raw), knowledge.table("vocabularies", Vocabularies))
    data.setdefault("assessed_on", today.isoformat())
    internal = _internal_keys(data)
    if internal:
        raise _format_error(internal)
    try:
        case = Case.model_validate(data)
    except ValidationError as error:
        raise _format_error([_pydantic_problem(e) for e in error.errors()]) from None
    checker = _Checker(case, knowledge, today)
    problems = checker.problems()
    if problems:
        raise _format_error(problems)
    return _normalised(case, checker.catalogue, checker.canonical, data.get("observations"))


def _internal_keys(data: dict[str, Any]) -> list[str]:
    """``observations[].given`` is written by the parser (the value as entered), never read from
    input: a case that carries it is refused like any unknown key."""
    observations = data.get("observations")
    if not isinstance(observations, list | tuple):
        return []
    return [
        f"observations[{i}].given: unknown key (check the spelling; see the case format, design §3)"
        for i, o in enumerate(observations)
        if isinstance(o, dict) and "given" in o
    ]


#: Problems listed at most; a file wrong in thousands of places gets a bounded answer.
MAX_PROBLEMS = 50


def _format_error(problems: list[str]) -> "CaseFormatError":
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], f"(case): and {more} more problems not listed"]
    error = CaseFormatError(problems[0])
    error.problems = problems  # type: ignore[attr-defined]
    return error


def _pydantic_problem(error: Any) -> str:
    path = _path(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key (check the spelling; see the case format, design §3)"
    if kind == "missing":
        return f"{path}: required"
    given = _brief(error.get("input"))
    if kind.startswith("date"):
        return f"{path}: {given} is not a date; use ISO 8601, e.g. 2026-03-02"
    if kind in ("literal_error", "enum"):
        return f"{path}: {given} is not accepted; expected {error['ctx']['expected']}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(error.get("input"), Mapping):  # a rule over a whole entry: its keys are named
        return f"{path}: {message}"
    return f"{path}: {message} (got {given})"


def _brief(value: Any) -> str:
    """The offending value as written, cut short: a message stays one readable line."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}…"


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(case)"


def _tables(
    knowledge: Knowledge,
) -> tuple[ObservationCatalogue, PlausibilityLimits, Vocabularies, MedicationCatalogue]:
    """The tables the checker reads, looked up (and their kinds checked) once per pack."""
    return (
        knowledge.table("observations", ObservationCatalogue),
        knowledge.table("plausibility", PlausibilityLimits),
        knowledge.table("vocabularies", Vocabularies),
        knowledge.table("medications", MedicationCatalogue),
    )


class _Checker:
    """The checks that need knowledge or cross-field reasoning; collects every problem."""

    def __init__(self, case: Case, knowledge: Knowledge, today: date) -> "None":
        self.case = case
        self.catalogue, self.limits, self.words, self.medications = knowledge.derived(_tables)
        self.today = today
        self.found: list[str] = []
        #: each valued observation's unit as matched and value in the canonical unit, by the
        #: observation's identity: ``_normalised`` uses them (not matched nor divided twice)
        self.canonical: dict[int, tuple[UnitSpec, Decimal]] = {}

    def problems(self) -> list[str]:
        self._dates()
        self._patient()
        self._pregnancy()
        for i, observation in enumerate(self.case.observations):
            self._observation(f"observations[{i}]", observation)
        self._vocabulary()
        return self.found

    def _add(self, problem: str) -> "None":
        self.found.append(problem)

    def _dates(self) -> "None":
        case = self.case
        if case.assessed_on > self.today:
            self._add(
                f"assessed_on: {case.assessed_on} is in the future (today is {self.today}); "
                "an assessment can only be made on what is known today"
            )
        birth = case.patient.birth_date
        for path, i, day in self._dated_items():
            if day > case.assessed_on:
                self._add(f"{path.format(i)}: {day} is after assessed_on ({case.assessed_on})")
            if (
                birth is not None
                and day < birth
                and not path.startswith(("pregnancy", "ultrasound"))
            ):
                self._add(f"{path.format(i)}: {day} is before the patient's birth_date ({birth})")
        if birth is not None and birth > case.assessed_on:
            self._add(f"patient.birth_date: {birth} is after assessed_on ({case.assessed_on})")

    def _dated_items(self) -> list[tuple[str, int, date]]:
        """Every date of the case with where it is: a path whose ``{}`` is the entry's index,
        formatted only for a date found wrong (most cases have none: issue 20)."""
        case = self.case
        items: list[tuple[str, int, date]] = []
        add = items.append
        for i, o in enumerate(case.observations):
            add(("observations[{}].date", i, o.date))
            if o.reported is not None:
                add(("observations[{}].reported", i, o.reported))
                if o.reported < o.date:
                    self._add(
                        f"observations[{i}].reported: {o.reported} is before the sample date {o.date}"
                    )
        for i, u in enumerate(case.ultrasound):
            add(("ultrasound[{}].date", i, u.date))
        for i, t in enumerate(case.therapy):
            add(("therapy[{}].start", i, t.start))
        for i, g in enumerate(case.genotype):
            add(("genotype[{}].date", i, g.date))
        for i, t in enumerate(case.therapy):
            if t.stop is not None and t.stop < t.start:
                self._add(f"therapy[{i}].stop: {t.stop} is before its start {t.start}")
        for i, m in enumerate(case.medications):
            add(("medications[{}].start", i, m.start))
        for i, m in enumerate(case.medications):
            if m.stop is not None and m.stop < m.start:
                self._add(f"medications[{i}].stop: {m.stop} is before its start {m.start}")
        pregnancy, congenital = case.pregnancy, case.congenital
        if pregnancy and pregnancy.symptom_onset:
            add(("pregnancy.symptom_onset", 0, pregnancy.symptom_onset))
        if pregnancy and pregnancy.lmp:
            add(("pregnancy.lmp", 0, pregnancy.lmp))
        if pregnancy and pregnancy.dating:
            add(("pregnancy.dating.date", 0, pregnancy.dating.date))
        if case.presentation and case.presentation.symptom_onset:
            add(("presentation.symptom_onset", 0, case.presentation.symptom_onset))
        if congenital and congenital.diagnosis:
            add(("congenital.diagnosis.date", 0, congenital.diagnosis.date))
        if congenital:
            for i, f in enumerate(congenital.follow_up):
                add(("congenital.follow_up[{}].date", i, f.date))
        if case.transplant and case.transplant.date:
            add(("transplant.date", 0, case.transplant.date))
        if case.hiv and case.hiv.art_start:
            add(("hiv.art_start", 0, case.hiv.art_start))
        return items

    def _range(
        self, path: str, value: Decimal, limits: tuple[Decimal, Decimal], unit: str
    ) -> "None":
        low, high = limits
        if not low <= value <= high:
            self._add(f"{path}: {value} {unit} is implausible (accepted range {low}–{high} {unit})")

    def _patient(self) -> "None":
        patient = self.case.patient
        if patient.weight_kg is not None:
            self._range("patient.weight_kg", patient.weight_kg, self.limits.weight_kg, "kg")
        if patient.height_cm is not None:
            self._range("patient.height_cm", patient.height_cm, self.limits.height_cm, "cm")
        if patient.age_years is not None:
            self._range("patient.age_years", patient.age_years, self.limits.age_years, "years")
        if patient.age_years is not None and patient.birth_date is not None:
            self._add("patient: give birth_date or age_years, not both")
        if patient.birth_date is not None:
            age = patient.age_on(self.case.assessed_on)
            if age is not None and age > self.limits.age_years[1]:
                self._add(f"patient.birth_date: an age of {age} years is implausible")
        self._weights_for_age()
        self._maternal_age()
        if patient.sex is Sex.MALE and (
            self.case.context is Context.PREGNANCY or self.case.carries_pregnancy
        ):
            self._add("patient.sex: a case with a pregnancy must be of a female patient (got male)")
        hiv = self.case.hiv
        if hiv is not None and hiv.on_art is False and hiv.art_start is not None:
            self._add(
                "hiv.art_start: given with on_art false; a patient off ART has no ART start in force "
                "(remove art_start, or set on_art true)"
            )
        self._symptom_onsets()
        if self.case.context is Context.CONGENITAL and self.case.pregnancy is not None:
            self._add(
                "pregnancy: a congenital case is the infant's; assess the mother's pregnancy in her own "
                "case (context pregnancy, or her own context with a pregnancy block)"
            )
        congenital = self.case.congenital
        if congenital and congenital.birth_weight_kg is not None:
            self._range(
                "congenital.birth_weight_kg",
                congenital.birth_weight_kg,
                self.limits.birth_weight_kg,
                "kg",
            )
        if congenital and congenital.gestational_age_at_birth:
            self._ga(
                "congenital.gestational_age_at_birth",
                GestationalAge.parse(congenital.gestational_age_at_birth),
            )

    def _symptom_onsets(self) -> "None":
        """A pregnant woman's illness has one onset: the two places it can be given must agree."""
        pregnancy, presentation = self.case.pregnancy, self.case.presentation
        if (
            pregnancy is not None
            and presentation is not None
            and pregnancy.symptom_onset is not None
            and presentation.symptom_onset is not None
            and pregnancy.symptom_onset != presentation.symptom_onset
        ):
            self._add(
                f"presentation.symptom_onset: {presentation.symptom_onset} differs from "
                f"pregnancy.symptom_onset ({pregnancy.symptom_onset}); give the onset once"
            )

    def _weights_for_age(self) -> "None":
        """A weight far above or below any child of that age is a typing or unit error (kg for
        g, 0.62 for 6.2). The age is the birth date's or, without one, ``age_years`` on
        ``assessed_on`` (probe8 S1: an 18-day-old given as 0.05 years at 90 kg was dosed)."""
        patient = self.case.patient
        assessed = self.case.assessed_on
        if patient.birth_date is not None:
            birth, approximate = patient.birth_date, False
        elif patient.age_years is not None and 0 <= patient.age_years <= self.limits.age_years[1]:
            days = int(patient.age_years * Decimal("365.25"))
            birth, approximate = assessed - timedelta(days=days), True
        else:
            return
        kg_unit = _kg()
        weights: list[tuple[str, Date, Decimal, Decimal, UnitSpec]] = []
        if patient.weight_kg is not None:
            kg = patient.weight_kg
            weights.append(("patient.weight_kg", assessed, kg, kg, kg_unit))
        weight_spec = self.catalogue.codes["weight"]
        for i, o in enumerate(self.case.observations):
            unit = _match_unit(o.unit, weight_spec) if o.code == "weight" else None
            if unit is not None and o.value is not None:
                weights.append(
                    (f"observations[{i}].value", o.date, o.value, _canonical(o.value, unit), unit)
                )
        for path, day, typed, kg, unit in weights:
            age_days = (day - birth).days
            if age_days < 0:
                continue  # before birth: the date checks say so (birth date), or age unknown then
            age = (
                f"about {age_days} days of age (age_years {patient.age_years} on {assessed})"
                if approximate
                else f"{age_days} days of age"
            )
            for band in self.limits.weight_for_age:
                if age_days < band.below_age_days:
                    if kg > band.weight_kg_max:
                        most = _as_typed(band.weight_kg_max, unit)
                        self._add(
                            f"{path}: {typed} {unit.unit} is implausible at {age} "
                            f"(at most {most} {unit.unit} below {band.below_age_days} days)"
                        )
                    elif kg < band.weight_kg_min:
                        least = _as_typed(band.weight_kg_min, unit)
                        self._add(
                            f"{path}: {typed} {unit.unit} is implausible at {age} "
                            f"(at least {least} {unit.unit} below {band.below_age_days} days; "
                            "a decimal slip?)"
                        )
                    break

    def _maternal_age(self) -> "None":
        """A pregnancy in a child or an old woman is a wrong birth date or age (probe8 W4)."""
        case = self.case
        if not (case.context is Context.PREGNANCY or case.carries_pregnancy):
            return
        age = case.patient.age_on(case.assessed_on)
        if age is None:
            return
        low, high = self.limits.maternal_age.years
        if not low <= age <= high:
            where = "patient.birth_date" if case.patient.birth_date else "patient.age_years"
            self._add(
                f"{where}: a pregnancy at {age} years of age is implausible (accepted maternal "
                f"age {low}–{high} years); check the birth date or age"
            )

    def _ga(self, path: str, ga: GestationalAge) -> "None":
        limit = GestationalAge(self.limits.gestational_age_max_days)
        if ga > limit:
            self._add(f"{path}: gestational age {ga} is implausible (beyond {limit})")

    def _medication(self, path: str, drug: str) -> "None":
        """A co-medication is a catalogue drug by its INN; a CMV antiviral belongs in therapy."""
        if drug in self.words.drugs:
            self._add(f"{path}: {drug} is a CMV antiviral: record it under therapy")
        elif self.medications.get(drug) is None:
            inn = self.medications.inn_of(drug)
            hint = (
                f"use the INN {inn!r}"
                if inn
                else "the known drugs are listed in docs/knowledge (table medications)"
            )
            self._add(f"{path}: unknown drug {drug!r} ({hint})")

    def _fetus_numbers(self) -> "None":
        """A fetus number names one fetus of this pregnancy: never beyond ``pregnancy.fetuses``."""
        pregnancy = self.case.pregnancy
        count = pregnancy.fetuses if pregnancy is not None else 1
        tagged = (
            ("observations", [o.fetus for o in self.case.observations]),
            ("ultrasound", [u.fetus for u in self.case.ultrasound]),
        )
        for where, fetuses in tagged:
            for i, fetus in enumerate(fetuses):
                if fetus is not None and fetus > count:
                    self._add(
                        f"{where}[{i}].fetus: fetus {fetus} in a pregnancy of {count} "
                        "fetus(es) (pregnancy.fetuses); number the fetuses 1 … fetuses"
                    )

    def _pregnancy(self) -> "None":
        self._fetus_numbers()
        pregnancy = self.case.pregnancy
        if pregnancy is None:
            return
        if pregnancy.fetuses > self.limits.fetuses_max:
            self._add(
                f"pregnancy.fetuses: {pregnancy.fetuses} is implausible (at most {self.limits.fetuses_max})"
            )
        if pregnancy.dating is not None:
            self._ga(
                "pregnancy.dating.gestational_age",
                GestationalAge.parse(pregnancy.dating.gestational_age),
            )
        for lmp, basis in pregnancy.implied_lmps():
            if lmp > self.case.assessed_on:
                self._add(f"pregnancy: the {basis} places the LMP ({lmp}) after assessed_on")
            else:
                self._ga(f"pregnancy ({basis})", GestationalAge.on(self.case.assessed_on, lmp))

    def _observation(self, path: str, observation: Observation) -> "None":
        # each field read once: a model's attribute read takes pydantic's slow path (issue 20)
        code, result, specimen = observation.code, observation.result, observation.specimen
        value = observation.value
        spec = self.catalogue.codes.get(code)
        if spec is None:
            known = ", ".join(sorted(self.catalogue.codes))
            self._add(f"{path}.code: unknown observation code {code!r} (known: {known})")
            return
        if result is not None and result not in spec.results:
            accepted = ", ".join(spec.results) or "none (give value and unit)"
            self._add(f"{path}.result: {result!r} is not accepted for {code} ({accepted})")
        if specimen is not None and specimen not in spec.specimens:
            accepted = ", ".join(spec.specimens) or "none"
            self._add(f"{path}.specimen: {specimen!r} is not accepted for {code} ({accepted})")
        if code == "cmv_dna" and specimen is None:
            self._add(f"{path}.specimen: required for cmv_dna ({', '.join(spec.specimens)})")
        if value is None and result is None:
            self._add(f"{path}: give a result or a value with its unit")
        if value is not None:
            self._quantity(path, observation, value, spec)

    def _quantity(
        self, path: str, observation: Observation, value: Decimal, spec: ObservationSpec
    ) -> "None":
        if not spec.units:
            self._add(f"{path}.value: {observation.code} takes a result, not a value")
            return
        unit = _match_unit(observation.unit, spec)
        if unit is None:
            accepted = ", ".join(u.unit for u in spec.units)
            self._add(
                f"{path}.unit: {observation.unit!r} is not accepted for {observation.code} (accepted: {accepted})"
            )
            return
        value = _canonical(value, unit)
        self.canonical[id(observation)] = unit, value
        if spec.plausible:
            low, high = spec.plausible
            if not low <= value <= high:
                self._add(
                    f"{path}.value: {observation.value} {observation.unit} is implausible for "
                    f"{observation.code} (accepted range {_range_as_typed(low, high, unit, spec)})"
                )

    def _vocabulary(self) -> "None":
        words = self.words
        case = self.case
        for i, scan in enumerate(case.ultrasound):
            for j, finding in enumerate(scan.findings):
                if finding not in words.ultrasound_findings:
                    self._add(
                        f"ultrasound[{i}].findings[{j}]: unknown finding {finding!r} (see the vocabulary, design §3)"
                    )
        if case.congenital:
            for j, m in enumerate(case.congenital.manifestations):
                if m not in words.congenital_manifestations:
                    self._add(f"congenital.manifestations[{j}]: unknown manifestation {m!r}")
        if case.presentation:
            for j, organ in enumerate(case.presentation.organs):
                if organ not in words.disease_organs:
                    self._add(f"presentation.organs[{j}]: unknown organ {organ!r}")
        if case.transplant:
            for j, risk in enumerate(case.transplant.hsct_risk):
                if risk not in words.hsct_risk:
                    self._add(f"transplant.hsct_risk[{j}]: unknown risk factor {risk!r}")
        for i, course in enumerate(case.therapy):
            if course.drug not in words.drugs:
                where = (
                    "; it is not a CMV antiviral: list it under medications with its dates"
                    if self.medications.get(course.drug)
                    else " (use the INN in lower case)"
                )
                self._add(f"therapy[{i}].drug: unknown drug {course.drug!r}{where}")
            if course.stop_reason is not None and course.stop_reason not in words.stop_reasons:
                self._add(
                    f"therapy[{i}].stop_reason: unknown reason {course.stop_reason!r} "
                    f"(one of {', '.join(words.stop_reasons)})"
                )
            elif course.stop_reason is not None and course.stop is None:
                self._add(
                    f"therapy[{i}].stop_reason: a stop reason needs the stop date (therapy[{i}].stop)"
                )
        for i, medication in enumerate(case.medications):
            self._medication(f"medications[{i}].drug", medication.drug)
        for j, drug in enumerate(case.patient.intolerances):
            if drug not in words.drugs and self.medications.get(drug) is None:
                self._add(f"patient.intolerances[{j}]: unknown drug {drug!r}")
        for i, result in enumerate(case.genotype):
            for j, gene in enumerate(result.genes_tested):
                if gene not in words.genes:
                    self._add(f"genotype[{i}].genes_tested[{j}]: unknown gene {gene!r}")


@cache
def _kg() -> UnitSpec:
    """The kilogram of ``patient.weight_kg``: built once (a pydantic model, not per case), on
    first use (building its schema at import would slow a cold ``cmvcds assess``)."""
    return UnitSpec(unit="kg")


def _match_unit(given: str | None, spec: ObservationSpec) -> UnitSpec | None:
    if given is None:
        return None
    for unit in spec.units:
        if given == unit.unit or given in unit.aliases or given.lower() == unit.unit.lower():
            return unit
    return None


def _as_typed(canonical: Decimal, unit: UnitSpec) -> str:
    """A canonical limit in the unit the user typed, without trailing zeros or exponent."""
    if unit.multiply_by is not None:
        value = canonical / unit.multiply_by
    else:
        value = canonical if unit.divide_by is None else canonical * unit.divide_by
    return format(value.normalize(), "f")


def _range_as_typed(low: Decimal, high: Decimal, unit: UnitSpec, spec: ObservationSpec) -> str:
    """An accepted range in the unit the user typed (outside probe, session 4, D10: a µmol/L
    creatinine was told its range in mg/dL), with the canonical range after it when they differ."""
    typed = f"{_as_typed(low, unit)}–{_as_typed(high, unit)} {unit.unit}"
    if unit.multiply_by is None and (unit.divide_by is None or unit.divide_by == 1):
        return typed
    return f"{typed}, i.e. {format(low.normalize(), 'f')}–{format(high.normalize(), 'f')} {spec.canonical_unit}"


def _canonical(value: Decimal, unit: UnitSpec) -> "Decimal":
    """``value`` in the code's canonical unit (unchanged for a unit that is its own scale)."""
    if unit.multiply_by is not None:
        return value * unit.multiply_by
    return value if unit.divide_by is None else value / unit.divide_by


def _normalised(
    case: Case,
    catalogue: ObservationCatalogue,
    canonical: dict[int, tuple[UnitSpec, Decimal]],
    entries: Any,
) -> "Case":
    """Convert each observation's value to its canonical unit, keeping the input in ``given``
    (``canonical``: the checker's unit and converted value of each, by identity). ``case`` and
    the observations pydantic built from a mapping of ``entries`` (the input's observations) are
    new, seen by no one yet: they are completed in place (``_completed``, issue 20); an
    observation given as a model instance (pydantic keeps the instance) is copied."""
    given = entries if type(entries) is list or type(entries) is tuple else ()
    observations = []
    for i, observation in enumerate(case.observations):
        spec = catalogue.codes[observation.code]
        update: dict[str, Any] = {}
        if observation.specimen is None and spec.default_specimen:
            update["specimen"] = spec.default_specimen
        if (typed := observation.value) is not None:
            unit, value = canonical[id(observation)]  # the checker refused unknown units
            update["given"] = f"{typed} {observation.unit}"
            update["value"] = value
            update["unit"] = spec.canonical_unit if unit.divide_by is not None else unit.unit
        if update:
            if i < len(given) and type(given[i]) is dict:
                _completed(observation, update)
            else:
                observation = _replaced(observation, update)
        observations.append(observation)
    return _completed(case, {"observations": tuple(observations)})


_M = TypeVar("_M", bound=Strict)
_set = object.__setattr__


def _replaced(model: _M, update: dict[str, Any]) -> _M:
    """``model.model_copy(update=update)``: the same fields, a new instance (a case has a dozen
    observations, issue 20). ``tests/test_domain.py`` holds it to ``model_copy``."""
    copy = object.__new__(type(model))
    _set(copy, "__dict__", {**model.__dict__, **update})
    return copy


def _completed(model: _M, update: dict[str, Any]) -> _M:
    """``model`` itself with ``update`` applied, as ``_replaced`` would give it in a copy (the
    same values): only for a model just validated that nothing else holds."""
    model.__dict__.update(update)
    return model
