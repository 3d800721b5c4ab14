"""The exclusion criteria of the AIFA protocol (rule A7, interpretation I-4).

Age < 12 years, creatinine > 1.1 mg/dL and glomerular filtration < 90 mL/min are independent:
any one excludes, each inequality strict as printed. The GFR criterion is judged on the
laboratory's eGFR or a measured creatinine clearance. Without either, CKD-EPI 2021 (race-free) is
computed from the creatinine: the letter does not name its equation and CKD-EPI is not validated
in pregnancy, where creatinine-based estimates run low, so a computed value ≥ 90 is accepted and a
computed value < 90 never excludes: it is shown for information and the reported GFR is asked for
(I-4). With ``since`` (the LMP), only results measured during this pregnancy count (I-11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Missing, PathwayResult
from cmvcds.engine.dosing import dose_patient_from_case
from cmvcds.engine.renal import bedside_schwartz, ckd_epi_2021
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import RenalFormulas
from cmvcds.knowledge.schemas.pregnancy import PregnancyProtocol

__all__ = ["Exclusions", "check_exclusions", "shown_against"]

#: The reported measures of glomerular filtration the GFR criterion accepts, with their units.
_GFR_CODES = {"egfr": "mL/min/1.73 m²", "creatinine_clearance_24h": "mL/min"}


class Exclusions(NamedTuple):
    """What excludes (reasons), whether any is renal, what is missing, and the renal findings."""

    excluded: tuple[str, ...]
    renal: bool
    missing: tuple[Missing, ...]
    findings: dict[str, Any]
    citations: tuple[str, ...]


@dataclass(frozen=True)
class _Wording:
    """The three thresholds as printed (``< 12 years`` …) and what their citations name: written
    once per pack, not three times a case (issue 20)."""

    protocol: PregnancyProtocol
    age: str
    creatinine: str
    egfr: str
    age_cited: str
    creatinine_cited: str
    egfr_cited: str
    no_age: Missing


def _wording_of(protocol: PregnancyProtocol) -> _Wording:
    age = protocol.exclusion_age.text()
    creatinine = protocol.exclusion_creatinine.text()
    egfr = protocol.exclusion_egfr.text()
    return _Wording(
        protocol,
        age,
        creatinine,
        egfr,
        f"age exclusion ({age})",
        f"creatinine exclusion ({creatinine}; unit assumed)",
        f"glomerular filtration exclusion ({egfr}; equation not stated)",
        Missing("patient.birth_date", f"age is an exclusion criterion ({age}) and enters the eGFR"),
    )


def _pack_wording(knowledge: Knowledge) -> _Wording:
    return _wording_of(knowledge.table("pregnancy_protocol", PregnancyProtocol))


def _wording(protocol: PregnancyProtocol, knowledge: Knowledge) -> _Wording:
    """The pack's wording when ``protocol`` is the pack's own table (both callers), else its own."""
    found = knowledge.derived(_pack_wording)
    return found if found.protocol is protocol else _wording_of(protocol)


def check_exclusions(
    case: Case,
    on: date,
    protocol: PregnancyProtocol,
    knowledge: Knowledge,
    result: PathwayResult,
    since: date | None = None,
) -> Exclusions:
    """Rule A7 on ``on``; with ``since``, renal results older than it do not count (I-11)."""
    words = _wording(protocol, knowledge)
    reasons: list[str] = []
    renal = False
    missing: list[Missing] = []
    findings: dict[str, Any] = {}
    citations: list[str] = []
    age = case.patient.age_on(on)
    rule = protocol.exclusion_age
    citations += result.cite(rule, words.age_cited)
    if age is None:
        missing.append(words.no_age)
    elif rule.met_by(age):
        reasons.append(f"Age {age} years {words.age}: excluded (rule A7).")
    dialysis = case.patient.dialysis
    if dialysis != "none":
        # probe13 S1: dialysis is a glomerular filtration far below the limit, whatever the
        # creatinine between sessions reads (protocol.yaml exclusion_dialysis, I-4)
        renal = True
        findings["dialysis"] = dialysis
        citations += result.cite(
            protocol.exclusion_dialysis, "dialysis: glomerular filtration < 90 mL/min (I-4)"
        )
        reasons.append(
            f"On {_DIALYSIS[dialysis]} (patient.dialysis): kidney failure, a glomerular filtration below "
            f"the protocol's limit ({words.egfr}): excluded (rule A7, I-4)."
        )
    latest = _latest(case, ("creatinine",), on)
    creatinine = latest if latest is not None and _current(latest, since) else None
    rule = protocol.exclusion_creatinine
    citations += result.cite(rule, words.creatinine_cited)
    if creatinine is None or creatinine.value is None:
        missing.append(
            Missing("creatinine", _why_missing("creatinine", latest, since, words.creatinine))
        )
    else:
        findings["creatinine_mg_dl"] = shown_against(creatinine.value, rule.limit)
        findings["creatinine_date"] = creatinine.date
        if rule.met_by(creatinine.value):
            renal = True
            reasons.append(
                f"Creatinine {_mg_dl(creatinine, rule.limit)} on {creatinine.date} {words.creatinine}: excluded (rule A7)."
            )
    rule = protocol.exclusion_egfr
    citations += result.cite(rule, words.egfr_cited)
    latest = _latest(case, _GFR, on)
    reported = latest if latest is not None and _current(latest, since) else None
    if reported is not None and creatinine is not None and reported.date < creatinine.date:
        reported = None  # older than the creatinine it should describe
    if reported is not None and reported.value is not None:
        unit = _GFR_CODES[reported.code]
        findings["egfr"] = reported.value
        findings["egfr_method"] = f"{_gfr_name(reported.code)}, reported on {reported.date}"
        if rule.met_by(reported.value):
            renal = True
            reasons.append(
                f"{_gfr_name(reported.code)} {reported.value} {unit} on {reported.date} {words.egfr}: excluded (rule A7)."
            )
    elif dialysis == "none":  # on dialysis no creatinine-based estimate is shown (S1)
        computed = _computed_egfr(case, on, age, creatinine, protocol, knowledge, citations)
        if computed is not None:
            citations += result.cite(
                protocol.computed_egfr,
                _SCHWARTZ_CITED
                if _minor(age, knowledge)
                else "computed CKD-EPI 2021 eGFR accepted only when >= 90; never excludes (I-4)",
            )
        if computed is not None and not rule.met_by(computed[0]):
            findings["egfr"], findings["egfr_method"] = computed
        else:
            if computed is not None:
                findings["egfr_computed"], findings["egfr_computed_method"] = computed
            missing.append(
                Missing(
                    "egfr",
                    _why_no_gfr(
                        latest, creatinine, since, computed, words.egfr, _minor(age, knowledge)
                    ),
                )
            )
    return Exclusions(
        tuple(reasons), renal, tuple(missing), findings, tuple(dict.fromkeys(citations))
    )


_GFR = tuple(_GFR_CODES)

#: ``patient.dialysis`` as a reason says it (review23b: not "On peritoneal", "On crrt")
_DIALYSIS = {
    "hemodialysis": "hemodialysis",
    "peritoneal": "peritoneal dialysis",
    "crrt": "continuous renal replacement therapy",
}


def _latest(case: Case, codes: tuple[str, ...], on: date) -> Observation | None:
    """The latest result with a value on or before ``on``; of several on that day, the first
    listed (``codes`` in order, each oldest first)."""
    best: Observation | None = None
    for code in codes:
        for o in case.results(code):
            if o.date > on:
                break
            if o.value is not None and (best is None or o.date > best.date):
                best = o
    return best


def _current(observation: Observation, since: date | None) -> bool:
    return since is None or observation.date >= since


def _why_missing(what: str, latest: Observation | None, since: date | None, limit: str) -> str:
    if latest is not None and since is not None:
        return (
            f"the latest {what} ({latest.date}) predates this pregnancy (LMP {since}): a baseline {what} "
            f"measured during this pregnancy is needed before valacyclovir (exclusion {limit}, rule A7)"
        )
    return f"baseline {what} is needed before valacyclovir (exclusion {limit}, rule A7)"


def _why_no_gfr(
    latest: Observation | None,
    creatinine: Observation | None,
    since: date | None,
    computed: tuple[Decimal, str] | None,
    limit: str,
    young: bool = False,
) -> str:
    ask = (
        "report the laboratory's eGFR or a measured creatinine clearance "
        f"(exclusion {limit}, rule A7)"
    )
    if latest is not None and since is not None and latest.date < since:
        why = f"the latest GFR ({latest.date}) predates this pregnancy (LMP {since}): {ask}"
    elif latest is not None and creatinine is not None and latest.date < creatinine.date:
        why = f"the latest GFR ({latest.date}) is older than the creatinine of {creatinine.date}: {ask}"
    else:
        why = f"no GFR reported: {ask}"
    if computed is None and young:
        why += (
            "; CKD-EPI 2021 is an adult equation (18 years and older) and is not computed at this "
            "age: give the height (for the bedside Schwartz 2009 estimate, accepted when >= 90) "
            "or the laboratory's GFR"
        )
    elif computed is not None and young:
        why += (
            f"; the bedside Schwartz 2009 estimate from the creatinine and the height gives "
            f"{computed[0]} mL/min/1.73 m², shown for information only: {limit} does not exclude "
            "on a computed value (I-4)"
        )
    elif computed is not None:
        why += (
            f"; CKD-EPI 2021 from the creatinine gives {computed[0]} mL/min/1.73 m², shown for information "
            f"only: {limit} does not exclude on a computed value, because the protocol does not name its equation and "
            "CKD-EPI is not validated in pregnancy, where creatinine-based estimates run low (I-4)"
        )
    return why


def _minor(age: Decimal | None, knowledge: Knowledge) -> bool:
    """Below the adult age of CKD-EPI 2021 (probe13 N5)."""
    adult = knowledge.table("renal_formulas", RenalFormulas).ckd_epi_2021.min_age_years
    return age is not None and adult is not None and age < adult


def _gfr_name(code: str) -> str:
    return "eGFR" if code == "egfr" else "Measured creatinine clearance"


#: what the citation of the computed-eGFR row names for a patient under 18 (fixr23b)
_SCHWARTZ_CITED = (
    "computed bedside Schwartz 2009 eGFR (under 18) accepted only when >= 90; never excludes (I-4)"
)


def _computed_egfr(
    case: Case,
    on: date,
    age: Decimal | None,
    creatinine: Observation | None,
    protocol: PregnancyProtocol,
    knowledge: Knowledge,
    citations: list[str],
) -> tuple[Decimal, str] | None:
    """The eGFR computed from the creatinine: CKD-EPI 2021 from 18 years; under 18, the bedside
    Schwartz 2009 (k × height / creatinine, formulas.yaml ``bedside_schwartz``; Schwartz et al.,
    JASN 2009;20:629, CKiD children 1-16 years) when a height is known (fixr23b). Accepted only
    to clear the GFR criterion (>= 90), never to exclude (I-4)."""
    if creatinine is None or creatinine.value is None or age is None:
        return None
    formulas = knowledge.table("renal_formulas", RenalFormulas)
    adult = formulas.ckd_epi_2021.min_age_years
    if adult is not None and age < adult:
        # an adult equation (probe13 N5): under 18 the bedside Schwartz, which needs the height
        height = dose_patient_from_case(case, on).height_cm
        if height is None or protocol.exclusion_age.met_by(age):
            return None  # no height; or below 12, excluded by age whatever the kidneys
        schwartz = bedside_schwartz(formulas, height_cm=height, creatinine_mg_dl=creatinine.value)
        citations += schwartz.citations
        method = (
            f"bedside Schwartz 2009 ({formulas.bedside_schwartz.k} × height {height} cm / "
            f"creatinine {_mg_dl(creatinine, protocol.exclusion_creatinine.limit)} of "
            f"{creatinine.date}), age {age}; not validated in pregnancy (I-4)"
        )
        return _shown(schwartz.value), method
    sex = case.patient.sex.value if case.patient.sex else "female"
    clearance = ckd_epi_2021(
        formulas, creatinine_mg_dl=creatinine.value, age_years=int(age), sex=sex
    )
    citations += clearance.citations
    method = (
        f"CKD-EPI 2021 from creatinine {_mg_dl(creatinine, protocol.exclusion_creatinine.limit)} of {creatinine.date}, age {age}, {sex}; "
        "not validated in pregnancy (I-4)"
    )
    return _shown(clearance.value), method


#: 0.01 … 0.000001: the places ``shown_against`` tries, in order.
_QUANTA = tuple(Decimal(1).scaleb(-places) for places in range(2, 7))


def shown_against(value: Decimal, limit: Decimal) -> Decimal:
    """``value`` to 2 decimals, or as many more (up to 6) as it takes to show its side of ``limit``.

    97.3 µmol/L is 1.1007 mg/dL: "1.10" would read as not above 1.1, so it is shown as 1.101.
    A value at the limit is shown at the limit (1.1 → 1.10).
    """
    for quantum in _QUANTA:
        shown = value.quantize(quantum, rounding=ROUND_HALF_UP)
        if (shown > limit) == (value > limit) and (shown < limit) == (value < limit):
            return shown
    return value


def _mg_dl(creatinine: Observation, limit: Decimal) -> str:
    """Creatinine as shown: mg/dL (enough decimals to read its side of ``limit``), with the value as
    given when it was converted."""
    assert creatinine.value is not None
    shown = f"{shown_against(creatinine.value, limit)} mg/dL"
    if creatinine.given and not creatinine.given.endswith("mg/dL"):
        shown += f" ({creatinine.given})"
    return shown


def _shown(value: Fraction | Decimal) -> Decimal:
    """The eGFR for display, truncated to one decimal (never rounded up across the limit)."""
    if isinstance(value, Decimal):
        return value
    # int(value * 10) in whole numbers: Fraction arithmetic is slow Python (issue 20)
    tenths = abs(value.numerator) * 10 // value.denominator
    return Decimal(tenths if value.numerator >= 0 else -tenths) / 10
