"""``valacyclovir-fetal-treatment``: Table 1 signs and rule A6 (with A8, I-5, I-7).

A fetus with CMV DNA in amniotic fluid qualifies with at least one mild/moderate sign (an
extracerebral sign, one isolated cerebral sign, or a fetal-blood abnormality) and no severe
cerebral sign. Signs are read from the latest ultrasound examination and the latest fetal-blood
results; thresholds are strict as printed. A finding whose measurement is missing cannot be
classified: when it could be severe (ventriculomegaly, microcephaly, megacisterna magna) the
decision waits for it. A measurement decides its sign whether or not the finding is named, and a
named finding its measurement contradicts is asked to be confirmed (I-12).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case, Ultrasound
from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.vocabulary import AlertCode, Outcome, Severity
from cmvcds.engine.pregnancy.amniocentesis import Amniocentesis
from cmvcds.knowledge.schemas.pregnancy import (
    FetalSign,
    FetalSignTable,
    Measurement,
    PregnancyProtocol,
)

__all__ = [
    "FetalSigns",
    "SignIndex",
    "classify_exam",
    "fetal_blood_signs",
    "fetal_outcome",
    "sign_index",
    "signs_before_amniocentesis",
    "signs_of_fetus",
]


@dataclass
class FetalSigns:
    """The Table 1 reading of one fetus: signs by category, findings not counted, and gaps."""

    extracerebral: list[str] = field(default_factory=list)
    isolated_cerebral: list[str] = field(default_factory=list)
    severe_cerebral: list[str] = field(default_factory=list)
    fetal_blood: list[str] = field(default_factory=list)
    not_counted: list[str] = field(default_factory=list)
    unmeasured: list[Missing] = field(default_factory=list)
    could_be_severe: bool = False
    unattributed: list[str] = field(default_factory=list)
    contradicted: list[str] = field(default_factory=list)
    #: named findings Table 1 places in no row (probe13 S5: a microcephaly of -2.5 SD, which
    #: the table lists only as severe below -3 SD): shown, and left to a specialist
    outside_table: list[str] = field(default_factory=list)
    exam: date | None = None
    sampled_blood: bool = False
    citations: list[str] = field(default_factory=list)

    def as_finding(self) -> dict[str, object]:
        shown: dict[str, object] = {"ultrasound": self.exam}
        for name in (
            "extracerebral",
            "isolated_cerebral",
            "severe_cerebral",
            "fetal_blood",
            "not_counted",
            "contradicted",
            "outside_table",
        ):
            values = getattr(self, name)
            if values:
                shown[name] = list(values)
        return shown


#: The measurements an ultrasound examination can carry, each deciding a Table 1 sign (I-12).
MEASUREMENTS = (
    "bowel_grade",
    "placenta_mm",
    "ventricle_mm",
    "cisterna_magna_mm",
    "head_circumference_sd",
)


@dataclass(frozen=True)
class SignIndex:
    """Table 1 indexed once per pack: its rows by finding, and for each measurement an
    examination can carry, the rows it decides by finding (they were searched per examination)."""

    table: FetalSignTable
    rows_of: dict[str, tuple[FetalSign, ...]]
    measured: tuple[tuple[str, tuple[tuple[str, tuple[FetalSign, ...]], ...]], ...]


def sign_index(table: FetalSignTable) -> SignIndex:
    """The ``SignIndex`` of ``table`` (rows in the table's order)."""
    rows_of: dict[str, list[FetalSign]] = {}
    for row in table.signs:
        rows_of.setdefault(row.finding, []).append(row)
    measured = tuple(
        (
            name,
            tuple((finding, tuple(rows)) for finding, rows in table.rows_measured_by(name).items()),
        )
        for name in MEASUREMENTS
    )
    return SignIndex(table, {finding: tuple(rows) for finding, rows in rows_of.items()}, measured)


def classify_exam(exam: Ultrasound, index: SignIndex, result: PathwayResult) -> FetalSigns:
    """Classify every finding of one ultrasound examination under Table 1, and every measurement.

    A measurement decides the sign it measures whether or not the finding is named (I-12): a
    cisterna magna of 12 mm is a severe sign with no finding listed. A named finding whose
    measurement contradicts its definition is not classified and is asked to be confirmed.
    """
    table = index.table
    signs = FetalSigns(exam=exam.date)
    named = set(exam.findings)
    for finding in sorted(named):
        rows = index.rows_of.get(finding, ())
        if not rows:
            signs.not_counted.append(f"{finding} (not a Table 1 sign)")
            continue
        signs.citations += result.cite(rows[0], f"Table 1: {rows[0].label}")
        if _contradicted(exam, finding, rows, signs, table, result):
            continue
        row, measured = _row_for(exam, rows)
        if row is None and measured is None:
            field_name = rows[0].when.field if rows[0].when else "measurement"
            severe = any(r.category == "severe_cerebral" for r in rows)
            signs.could_be_severe |= severe
            signs.unmeasured.append(
                Missing(
                    f"ultrasound.{field_name}",
                    f"{finding.replace('_', ' ')} on {exam.date} without {field_name}: Table 1 classifies it by "
                    + "; ".join(r.label for r in rows),
                )
            )
        elif row is None and all(r.category == "severe_cerebral" for r in rows):
            signs.outside_table.append(
                f"{finding.replace('_', ' ')} ({measured}): named, but Table 1 lists it only as a "
                f"severe sign ({'; '.join(r.label for r in rows)}), and as no mild/moderate sign"
            )
        elif row is None:
            signs.not_counted.append(
                f"{finding.replace('_', ' ')} ({measured}): below the Table 1 threshold"
            )
        else:
            text = row.label + (f" ({measured})" if measured else "")
            getattr(signs, row.category).append(text)
    for name, decided in index.measured:
        if getattr(exam, name) is None:
            continue
        for finding, decided_rows in decided:
            if finding not in named:
                _unnamed(exam, finding, decided_rows, signs, table, result)
    return signs


def _defined_by(rows: Sequence[FetalSign]) -> Measurement | None:
    return next((r.defined_by for r in rows if r.defined_by is not None), None)


def _contradicted(
    exam: Ultrasound,
    finding: str,
    rows: Sequence[FetalSign],
    signs: FetalSigns,
    table: FetalSignTable,
    result: PathwayResult,
) -> bool:
    """A named finding whose own measurement does not meet its definition (I-12)."""
    definition = _defined_by(rows)
    if definition is None:
        return False
    value = getattr(exam, definition.field)
    if value is None or definition.met_by(Decimal(value)):
        return False
    citations = result.cite(
        table.measurement_decides, "a measurement decides its Table 1 sign (I-12)"
    )
    shown = _measured(definition.field, value, definition.unit)
    name = finding.replace("_", " ")
    text = (
        f"{name} is named on the ultrasound of {exam.date}, but its {shown} does not meet its "
        f"definition ({definition.text()})"
    )
    signs.contradicted.append(text)
    signs.could_be_severe |= any(r.category == "severe_cerebral" for r in rows)
    signs.unmeasured.append(
        Missing(
            f"ultrasound.{definition.field}",
            f"{text}: confirm the finding and its measurement (I-12)",
        )
    )
    result.alerts.append(
        Alert(
            AlertCode.CONTRADICTORY_INPUT,
            Severity.WARNING,
            f"Contradictory ultrasound: {text}. The sign is not classified until the finding and its "
            "measurement are confirmed (I-12).",
            tuple(citations),
        )
    )
    return True


def _unnamed(
    exam: Ultrasound,
    finding: str,
    rows: Sequence[FetalSign],
    signs: FetalSigns,
    table: FetalSignTable,
    result: PathwayResult,
) -> None:
    """A measurement given without the finding's name decides the sign it measures (I-12)."""
    definition = _defined_by(rows)
    row, measured = _row_for(exam, rows)
    if measured is None:
        return  # a row keyed on another measurement, absent here
    result.cite(table.measurement_decides, "a measurement decides its Table 1 sign (I-12)")
    name = finding.replace("_", " ")
    if definition is not None and not definition.met_by(Decimal(getattr(exam, definition.field))):
        signs.not_counted.append(f"{measured}: no {name} ({definition.text()} needed)")
        return
    if row is None:
        signs.not_counted.append(f"{measured}: below the Table 1 threshold for {name}")
        return
    signs.citations += result.cite(row, f"Table 1: {row.label} (from its measurement)")
    getattr(signs, row.category).append(f"{row.label} ({measured}; measured, finding not named)")


def _measured(field_name: str, value: object, unit: str | None) -> str:
    """A measurement as shown: "head circumference -2.5 SD", not "head circumference sd -2.5 SD"
    (review23b): an upper-case unit the field's name ends with is said once. The millimetre
    fields keep their wording ("ventricle mm 12 mm", as the it.yaml rows read it)."""
    name = field_name.replace("_", " ")
    if unit and unit.isupper() and name.endswith(" " + unit.lower()):
        name = name[: -len(unit) - 1]
    return f"{name} {value}{' ' + unit if unit else ''}"


def _row_for(exam: Ultrasound, rows: Sequence[FetalSign]) -> tuple[FetalSign | None, str | None]:
    """The row whose condition holds, and the measurement as shown; (None, None) if unmeasured."""
    if all(row.when is None for row in rows):
        return rows[0], None
    shown: str | None = None
    for row in rows:
        when = row.when
        if when is None:
            continue
        value: Decimal | int | None = getattr(exam, when.field)
        if value is None:
            return None, None
        shown = _measured(when.field, value, when.unit)
        if when.met_by(Decimal(value)):
            return row, shown
    return None, shown


def fetal_blood_signs(
    case: Case,
    on: date,
    fetus: int | None,
    protocol: PregnancyProtocol,
    signs: FetalSigns,
    result: PathwayResult,
    fetuses: int = 1,
) -> None:
    """Fetal viraemia > 3,000 copies/mL and platelets < 100,000/mm³ (latest values, strict)."""
    viraemia = [
        o
        for o in case.results("cmv_dna", "fetal_blood")
        if o.date <= on and _same_fetus(o.fetus, fetus, fetuses)
    ]
    platelets = [
        o
        for o in case.results("platelets", "fetal_blood")
        if o.date <= on and _same_fetus(o.fetus, fetus, fetuses)
    ]
    signs.sampled_blood = bool(viraemia or platelets)
    if viraemia:
        latest = viraemia[-1]
        rule = protocol.fetal_viraemia
        signs.citations += result.cite(rule, "Table 1: fetal viraemia threshold")
        if latest.value is None or latest.unit != rule.unit:
            signs.unmeasured.append(
                Missing(
                    "fetal_blood cmv_dna (copies/mL)",
                    f"fetal viraemia on {latest.date} is not quantified in {rule.unit}; Table 1 needs {rule.text()}",
                )
            )
        elif rule.met_by(latest.value):
            signs.fetal_blood.append(
                f"fetal viraemia {latest.value} copies/mL ({rule.text()}, {latest.date})"
            )
        else:
            signs.not_counted.append(f"fetal viraemia {latest.value} copies/mL: not {rule.text()}")
    if platelets:
        latest = platelets[-1]
        rule = protocol.fetal_platelets
        signs.citations += result.cite(rule, "Table 1: fetal platelet threshold")
        if latest.value is not None and rule.met_by(latest.value):
            signs.fetal_blood.append(
                f"fetal platelets {latest.value}/mm³ ({rule.text()}, {latest.date})"
            )
        elif latest.value is not None:
            signs.not_counted.append(f"fetal platelets {latest.value}/mm³: not {rule.text()}")


def signs_of_fetus(
    case: Case,
    on: date,
    fetus: int | None,
    index: SignIndex,
    protocol: PregnancyProtocol,
    result: PathwayResult,
    fetuses: int = 1,
) -> FetalSigns:
    """Table 1 reading of ``fetus`` (None: the only or an unspecified fetus).

    In a multiple pregnancy only the examinations and fetal-blood results naming ``fetus`` count;
    one naming no fetus, with findings or values, cannot be attributed and leaves the decision
    open (I-10).
    """
    exams = [u for u in case.ultrasound if u.date <= on and _same_fetus(u.fetus, fetus, fetuses)]
    latest = max(exams, key=lambda u: u.date) if exams else None
    signs = classify_exam(latest, index, result) if latest else FetalSigns()
    fetal_blood_signs(case, on, fetus, protocol, signs, result, fetuses)
    if fetuses > 1:
        signs.unattributed += [
            f"ultrasound of {u.date} ({', '.join(u.findings)})"
            for u in case.ultrasound
            if u.date <= on and u.fetus is None and u.findings
        ]
        signs.unattributed += [
            f"fetal-blood {o.code.replace('_', ' ')} of {o.date}"
            for code in ("cmv_dna", "platelets")
            for o in case.results(code, "fetal_blood")
            if o.date <= on and o.fetus is None
        ]
    return signs


def signs_before_amniocentesis(
    case: Case,
    on: date,
    fetuses: int,
    index: SignIndex,
    protocol: PregnancyProtocol,
    result: PathwayResult,
) -> dict[str, object]:
    """The Table 1 reading of the ultrasound before any amniocentesis: shown, never acted on.

    Table 1 signs decide in-utero treatment only once CMV DNA is found in amniotic fluid (A6);
    a sign seen earlier is reported so that it is not dropped without a word (I-12). Empty when
    no examination shows anything Table 1 counts or measures.
    """
    shown: dict[str, object] = {}
    for fetus in [None] if fetuses == 1 else list(range(1, fetuses + 1)):
        signs = signs_of_fetus(case, on, fetus, index, protocol, result, fetuses)
        finding = signs.as_finding()
        if signs.exam is not None and len(finding) > 1:
            shown[f"fetus {fetus}" if fetus else "fetus"] = finding
    if shown:
        shown["note"] = (
            "Table 1 signs decide in-utero treatment only after CMV DNA is found in amniotic "
            "fluid (A6); shown for the amniocentesis decision."
        )
    return shown


def fetal_outcome(
    signs: FetalSigns, table: FetalSignTable, result: PathwayResult
) -> tuple[Outcome, list[str], list[Missing]]:
    """Rule A6 for one infected fetus: outcome, reasons and what is missing."""
    reasons: list[str] = []
    missing = list(signs.unmeasured)
    qualifying = signs.extracerebral + signs.fetal_blood
    if signs.severe_cerebral:
        reasons.append(
            f"Severe cerebral sign: {'; '.join(signs.severe_cerebral)} — exclusion criterion for in-utero treatment (A6, A8)."
        )
        return Outcome.EXCLUDED, reasons, []
    if signs.unattributed:
        reasons.append(
            f"In a multiple pregnancy, {'; '.join(signs.unattributed)} names no fetus: it may hold the sign "
            "that decides eligibility (I-10)."
        )
        return (
            Outcome.INSUFFICIENT_DATA,
            reasons,
            [
                Missing(
                    "ultrasound.fetus",
                    "multiple pregnancy: say which fetus each ultrasound examination and fetal-blood result "
                    f"belongs to ({'; '.join(signs.unattributed)})",
                )
            ],
        )
    if signs.could_be_severe:
        reasons.append(
            "A cerebral finding without its measurement, or contradicted by it, could be severe: it decides "
            "eligibility (A8, I-12)."
        )
        return Outcome.INSUFFICIENT_DATA, reasons, missing
    if signs.outside_table:
        text = "; ".join(signs.outside_table)
        reasons.append(
            f"A named fetal finding the protocol does not classify: {text}. It neither qualifies "
            "nor excludes under Table 1, and a cerebral abnormality may change the prognosis: "
            "specialist review (A6, A8)."
        )
        result.alerts.append(
            Alert(
                AlertCode.BOUNDARY_CASE,
                Severity.WARNING,
                f"Fetal finding outside AIFA Table 1: {text}. Not counted as a sign of mild/moderate "
                "disease nor as a severe sign: the eligibility for in-utero treatment is a "
                "specialist's decision.",
                tuple(signs.citations),
            )
        )
        return Outcome.SPECIALIST_REVIEW, reasons, missing
    if len(signs.isolated_cerebral) > 1:
        result.cite(
            table.isolated_means_single, "'isolated' cerebral sign read as exactly one (I-7)"
        )
        reasons.append(
            f"Several cerebral signs ({'; '.join(signs.isolated_cerebral)}): not 'isolated' as Table 1 requires (I-7); specialist review."
        )
        return Outcome.SPECIALIST_REVIEW, reasons, missing
    qualifying += signs.isolated_cerebral
    if qualifying:
        reasons.append(
            f"Mild/moderate sign(s) of fetal disease: {'; '.join(qualifying)} (Table 1, A6)."
        )
        return Outcome.RECOMMENDED, reasons, []
    if signs.exam is None and not signs.sampled_blood:
        reasons.append(
            "No fetal ultrasound examination or fetal-blood result: Table 1 signs cannot be assessed."
        )
        return (
            Outcome.INSUFFICIENT_DATA,
            reasons,
            [
                Missing(
                    "ultrasound",
                    "a fetal ultrasound examination is needed to look for the Table 1 signs",
                )
            ],
        )
    if missing:
        reasons.append(
            "A finding without its measurement, or contradicted by it, may qualify (Table 1, I-12)."
        )
        return Outcome.INSUFFICIENT_DATA, reasons, missing
    where = f"ultrasound of {signs.exam}" if signs.exam else "no ultrasound"
    blood = (
        "no fetal-blood abnormality"
        if signs.sampled_blood
        else "fetal blood not tested"  # probe13 N4: never "no abnormality" without a sample
    )
    reasons.append(
        f"No ultrasound sign of fetal disease ({where}) and {blood}: an exclusion criterion of the "
        "AIFA protocol for in-utero treatment (A6)."
    )
    if not signs.sampled_blood:
        missing.append(
            Missing(
                "fetal_blood",
                "no fetal-blood result: a fetal viraemia > 3,000 copies/mL or platelets < 100,000/mm³ would qualify (Table 1)",
            )
        )
    return Outcome.EXCLUDED, reasons, missing


def _same_fetus(item: int | None, fetus: int | None, fetuses: int = 1) -> bool:
    """Whether a result tagged ``item`` belongs to ``fetus``: in a singleton pregnancy a missing
    tag means the only fetus; in a multiple pregnancy only an explicit, equal tag does (I-10)."""
    if fetuses > 1:
        return item is not None and item == fetus
    return item is None or fetus is None or item == fetus


def infected_fetuses(amnios: tuple[Amniocentesis, ...]) -> list[int | None]:
    """The fetuses with a positive amniotic-fluid PCR (None: unspecified)."""
    return sorted({a.fetus for a in amnios if a.positive}, key=lambda f: f or 0)
