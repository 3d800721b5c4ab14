"""Renal function and body size, computed exactly, each result carrying its formula and inputs.

Every coefficient comes from the ``renal_formulas`` table (``drugs/formulas.yaml``); nothing is
typed here. Clearances are exact ``Fraction`` values: a Cockcroft-Gault clearance that is exactly
70 on paper (0.85 × 84 × 120 / (72 × 1.7)) is 70, never 69.999…, so a dose band is chosen as the
label prints it (dosing.md §0.2). Irrational steps (the square root of Mosteller, the powers of
CKD-EPI) are computed in ``Decimal`` at 28 significant digits.

    cockcroft_gault          CrCl mL/min (actual weight by default; ideal/adjusted as a policy)
    cockcroft_gault_per_kg   CrCl mL/min/kg (foscarnet's modified form; weight drops out)
    measured_per_kg          a measured 24-h CrCl divided by weight (foscarnet)
    ckd_epi_2021             eGFR mL/min/1.73 m², race-free
    bedside_schwartz         eGFR mL/min/1.73 m², k 0.413 (children)
    schwartz_label           the valganciclovir label's Schwartz with its k table
    mosteller_bsa            BSA m²
    ideal_body_weight, adjusted_body_weight   Devine IBW and IBW + 0.4 × excess
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Literal

from cmvcds.engine.decimal_power import power
from cmvcds.engine.frozen import frozen
from cmvcds.knowledge.schemas.drugs import RenalFormulas, SchwartzK

__all__ = [
    "Clearance",
    "WeightBasis",
    "adjusted_body_weight",
    "bedside_schwartz",
    "ckd_epi_2021",
    "cockcroft_gault",
    "cockcroft_gault_per_kg",
    "decimal_of",
    "ideal_body_weight",
    "ideal_weight_kg",
    "measured_per_kg",
    "mosteller_bsa",
    "schwartz_label",
    "schwartz_label_k",
]

WeightBasis = Literal["actual", "ideal", "adjusted"]
Number = Decimal | Fraction | int


@dataclass(frozen=True)
class Clearance:
    """A renal function value with how it was obtained, for the pharmacist's explanation."""

    value: Fraction
    unit: str
    method: str
    formula: str
    inputs: Mapping[str, str]
    citations: tuple[str, ...]
    weight_basis: str | None = None
    notes: tuple[str, ...] = field(default=())

    def rounded(self, places: int = 2) -> float:
        """The value for display, truncated (never rounded up across a band edge)."""
        return float(_floor(self.value, places))

    def describe(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.inputs.items())
        return f"{self.method}: {self.formula} = {_show(self.value)} {self.unit} ({shown})"


def cockcroft_gault(
    formulas: RenalFormulas,
    *,
    age_years: Number,
    weight_kg: Number,
    creatinine_mg_dl: Number,
    sex: str,
    weight_basis: WeightBasis = "actual",
    height_cm: Number | None = None,
) -> Clearance:
    """Cockcroft-Gault CrCl (mL/min), not normalised to BSA, as the labels print it.

    ``weight_basis`` other than ``actual`` is an institutional policy (the labels say "body weight")
    and needs ``height_cm``; it is named in the result.
    """
    cg = formulas.cockcroft_gault
    # ``isinstance`` on Decimal and int, never on the Fraction ABC (a slow check in Python)
    weight: Decimal | Fraction = (
        decimal_of(weight_kg) if isinstance(weight_kg, Decimal | int) else weight_kg
    )
    notes: list[str] = []
    if weight_basis != "actual":
        if height_cm is None:
            raise ValueError("an ideal or adjusted weight needs the height")
        ibw = ideal_body_weight(formulas, height_cm=height_cm, sex=sex)
        chosen = (
            ibw
            if weight_basis == "ideal"
            else adjusted_body_weight(formulas, ibw=ibw, weight_kg=weight)
        )
        notes.append(
            f"{weight_basis} body weight {_show(chosen)} kg used instead of the actual {_show(Fraction(weight))} kg "
            "(institutional policy; the label says body weight)"
        )
        weight = chosen
    female = sex == "female"
    # (140 − age) × weight [× 0.85] over 72 × creatinine: exact decimal products, one exact division
    numerator = _ratio(cg.age_from - decimal_of(age_years))
    numerator = _times(numerator, _ratio(weight))
    if female:
        numerator = _times(numerator, _ratio(cg.female_factor))
    denominator = _ratio(cg.divisor * decimal_of(creatinine_mg_dl))
    value = Fraction(numerator[0] * denominator[1], numerator[1] * denominator[0])
    factor = f" × {cg.female_factor}" if female else ""
    shown_weight = str(weight) if isinstance(weight, Decimal) else _show(weight)
    return frozen(
        Clearance,
        value=value,
        unit="mL/min",
        method="cockcroft-gault",
        formula=f"({cg.age_from} − age) × weight / ({cg.divisor} × creatinine){factor}",
        inputs={
            "age": f"{age_years} y",
            "weight": f"{shown_weight} kg ({weight_basis})",
            "creatinine": f"{creatinine_mg_dl} mg/dL",
            "sex": sex,
        },
        citations=cg.citations,
        weight_basis=weight_basis,
        notes=tuple(notes),
    )


def cockcroft_gault_per_kg(
    formulas: RenalFormulas, *, age_years: Number, creatinine_mg_dl: Number, sex: str
) -> Clearance:
    """Foscarnet's modified Cockcroft-Gault: CrCl in mL/min/kg, without weight."""
    cg = formulas.cockcroft_gault
    female = sex == "female"
    numerator = cg.age_from - decimal_of(age_years)
    if female:
        numerator *= cg.female_factor
    value = _exact(numerator) / _exact(cg.divisor * decimal_of(creatinine_mg_dl))
    factor = f" × {cg.female_factor}" if female else ""
    return frozen(
        Clearance,
        value=value,
        unit="mL/min/kg",
        method="cockcroft-gault-per-kg",
        formula=f"({cg.age_from} − age) / ({cg.divisor} × creatinine){factor}",
        inputs={"age": f"{age_years} y", "creatinine": f"{creatinine_mg_dl} mg/dL", "sex": sex},
        citations=cg.citations,
    )


def measured_per_kg(
    *, crcl_ml_min: Number, weight_kg: Number, citations: tuple[str, ...]
) -> Clearance:
    """A measured 24-h creatinine clearance divided by body weight (mL/min/kg)."""
    return frozen(
        Clearance,
        value=Fraction(crcl_ml_min) / Fraction(weight_kg),
        unit="mL/min/kg",
        method="measured-24h-per-kg",
        formula="measured 24-h CrCl / weight",
        inputs={"measured CrCl": f"{crcl_ml_min} mL/min", "weight": f"{weight_kg} kg"},
        citations=citations,
        weight_basis="actual",
    )


def ckd_epi_2021(
    formulas: RenalFormulas, *, creatinine_mg_dl: Number, age_years: Number, sex: str
) -> Clearance:
    """CKD-EPI 2021 creatinine equation (race-free), mL/min/1.73 m²; not validated in pregnancy."""
    c = formulas.ckd_epi_2021
    female = sex == "female"
    kappa = c.kappa_female if female else c.kappa_male
    alpha = c.alpha_female if female else c.alpha_male
    with localcontext() as ctx:
        ctx.prec = 28
        ratio = decimal_of(creatinine_mg_dl) / kappa
        value = (
            c.base
            * power(min(ratio, Decimal(1)), alpha)
            * power(max(ratio, Decimal(1)), c.exponent_above)
            * power(c.age_base, decimal_of(age_years))
        )
        if female:
            value *= c.female_factor
    factor = f" × {c.female_factor}" if female else ""
    return frozen(
        Clearance,
        value=Fraction(value),
        unit="mL/min/1.73 m²",
        method="ckd-epi-2021",
        formula=(
            f"{c.base} × min(creatinine/{kappa}, 1)^{alpha} × max(creatinine/{kappa}, 1)^{c.exponent_above}"
            f" × {c.age_base}^age{factor}"
        ),
        inputs={"creatinine": f"{creatinine_mg_dl} mg/dL", "age": f"{age_years} y", "sex": sex},
        citations=c.citations,
    )


def bedside_schwartz(
    formulas: RenalFormulas, *, height_cm: Number, creatinine_mg_dl: Number
) -> Clearance:
    """Bedside Schwartz (2009) eGFR, mL/min/1.73 m²: k × height / creatinine, k = 0.413."""
    k = formulas.bedside_schwartz.k
    return frozen(
        Clearance,
        value=Fraction(k) * Fraction(height_cm) / Fraction(creatinine_mg_dl),
        unit="mL/min/1.73 m²",
        method="bedside-schwartz",
        formula=f"{k} × height / creatinine",
        inputs={"height": f"{height_cm} cm", "creatinine": f"{creatinine_mg_dl} mg/dL"},
        citations=formulas.bedside_schwartz.citations,
    )


def schwartz_label_k(
    formulas: RenalFormulas,
    *,
    age_years: int,
    sex: str | None,
    birth_weight_for_gestational_age: str | None,
) -> SchwartzK | None:
    """The label's Schwartz constant for this child, or None when no row applies (or data lack)."""
    for row in formulas.schwartz_label:
        if not row.min_age_years <= age_years < row.below_age_years:
            continue
        if row.sex is not None and row.sex != sex:
            continue
        if (
            row.birth_weight_for_gestational_age is not None
            and row.birth_weight_for_gestational_age != birth_weight_for_gestational_age
        ):
            continue
        return row
    return None


def schwartz_label(
    formulas: RenalFormulas,
    *,
    k: SchwartzK,
    height_cm: Number,
    creatinine_mg_dl: Number,
    cap: Decimal | None = None,
) -> Clearance:
    """The valganciclovir label's Schwartz CrCl (mL/min/1.73 m²) = k × height / creatinine, capped."""
    raw = Fraction(k.k) * Fraction(height_cm) / Fraction(creatinine_mg_dl)
    notes: tuple[str, ...] = ()
    value = raw
    if cap is not None and raw > Fraction(cap):
        value = Fraction(cap)
        notes = (f"calculated {_show(raw)} mL/min/1.73 m² exceeds {cap}: {cap} used (label)",)
    return frozen(
        Clearance,
        value=value,
        unit="mL/min/1.73 m²",
        method="schwartz-label",
        formula=f"k × height / creatinine, k = {k.k} ({k.note or 'label k table'})",
        inputs={
            "height": f"{height_cm} cm",
            "creatinine": f"{creatinine_mg_dl} mg/dL",
            "k": str(k.k),
        },
        citations=k.citations,
        notes=notes,
    )


def mosteller_bsa(formulas: RenalFormulas, *, height_cm: Number, weight_kg: Number) -> Decimal:
    """Mosteller body-surface area (m²) = √(height × weight / 3600), to 28 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 28
        return (decimal_of(height_cm) * decimal_of(weight_kg) / formulas.mosteller.divisor).sqrt()


def ideal_body_weight(formulas: RenalFormulas, *, height_cm: Number, sex: str) -> Fraction:
    """Devine ideal body weight (kg); pharmacy practice, not a label formula."""
    d = formulas.ibw_devine
    inches = Fraction(height_cm) / Fraction(d.cm_per_inch)
    base = d.base_female_kg if sex == "female" else d.base_male_kg
    return Fraction(base) + Fraction(d.kg_per_inch) * (inches - Fraction(d.inches_from))


def ideal_weight_kg(formulas: RenalFormulas, *, height_cm: Number, sex: str) -> float:
    """Devine ideal body weight as a float, for notes (never for a band or a dose)."""
    d = formulas.ibw_devine
    base = d.base_female_kg if sex == "female" else d.base_male_kg
    return float(base) + float(d.kg_per_inch) * (
        float(height_cm) / float(d.cm_per_inch) - float(d.inches_from)
    )


def adjusted_body_weight(formulas: RenalFormulas, *, ibw: Fraction, weight_kg: Number) -> Fraction:
    """Adjusted body weight = IBW + fraction × (actual − IBW); the actual weight if below IBW."""
    weight = Fraction(weight_kg)
    if weight <= ibw:
        return weight
    return ibw + Fraction(formulas.ibw_devine.adjusted_fraction) * (weight - ibw)


def decimal_of(value: Number) -> Decimal:
    """A Decimal for ``value`` (a Fraction is divided out at the current precision)."""
    if isinstance(value, Decimal):  # immutable: itself
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(value.numerator) / Decimal(value.denominator)


def _ratio(value: Number) -> tuple[int, int]:
    """``value`` as an exact (numerator, denominator) pair of integers."""
    if isinstance(value, Decimal | int):
        return value.as_integer_ratio()
    return value.numerator, value.denominator


def _times(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] * b[0], a[1] * b[1]


def _exact(value: Decimal) -> Fraction:
    """The exact Fraction of a Decimal product (Decimal products of short inputs are exact)."""
    numerator, denominator = value.as_integer_ratio()
    return Fraction(numerator, denominator)


def _floor(value: Fraction, places: int) -> Fraction:
    scale = 10**places
    return Fraction(value.numerator * scale // value.denominator, scale)


def _show(value: Fraction | Decimal) -> str:
    """A readable number: exact when short, else to 2 decimals (truncated)."""
    if isinstance(value, Decimal):
        value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    floored = _floor(value, 2)
    text = f"{float(floored):.2f}".rstrip("0").rstrip(".")
    return text if floored == value else f"{text}…"
