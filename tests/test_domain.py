"""Domain values: gestational age arithmetic, unit conversion once at the edge, settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmvcds.domain.case import Case
from cmvcds.domain.gestational_age import GestationalAge
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.sentences import clause, sentence
from cmvcds.domain.settings import SiteSettings, parse_settings, use_setting
from cmvcds.errors import CaseFormatError, SettingsError
from cmvcds.knowledge import Knowledge

BASE: dict[str, Any] = {
    "id": "domain-01",
    "assessed_on": "2026-03-02",
    "context": "pregnancy",
    "patient": {"sex": "female", "birth_date": "1992-04-11"},
    "pregnancy": {"lmp": "2025-12-20"},
}


def test_gestational_age_prints_and_parses() -> None:
    assert GestationalAge.parse("20+1").days == 141
    assert str(GestationalAge(168)) == "24+0"
    assert str(GestationalAge.parse(" 12 + 3 ")) == "12+3"


@pytest.mark.parametrize("text", ["12+7", "12", "12w3d", "-1+0", "+3"])
def test_gestational_age_refuses_malformed(text: str) -> None:
    with pytest.raises(CaseFormatError, match="weeks\\+days"):
        GestationalAge.parse(text)


def test_gestational_age_dates() -> None:
    lmp = date(2025, 12, 20)
    assert GestationalAge.on(date(2026, 3, 2), lmp) == GestationalAge.parse("10+2")
    assert GestationalAge.parse("20+1").date(lmp) == date(2026, 5, 10)
    assert GestationalAge.parse("24+0").date(lmp) == date(2026, 6, 6)
    assert GestationalAge.parse("26+0").date(lmp) == date(2026, 6, 20)


@given(st.integers(min_value=0, max_value=44 * 7))
def test_gestational_age_round_trips(days: int) -> None:
    ga = GestationalAge(days)
    assert GestationalAge.parse(str(ga)) == ga


def test_every_dating_given_is_checked(make_case: Callable[[dict[str, Any]], Case]) -> None:
    three = {
        **BASE,
        "pregnancy": {
            "lmp": "2025-12-10",
            "edd": "2026-09-26",
            "dating": {"date": "2026-02-01", "gestational_age": "6+1"},
        },
    }
    assert make_case(three).pregnancy.implied_lmps() == [  # type: ignore[union-attr]
        (date(2025, 12, 10), "LMP"),
        (date(2025, 12, 20), "EDD"),
        (date(2025, 12, 20), "dating scan"),
    ]
    implausible_edd = {**BASE, "pregnancy": {"lmp": "2025-12-20", "edd": "2026-01-10"}}
    with pytest.raises(CaseFormatError, match=r"pregnancy \(EDD\): gestational age 47\+2"):
        make_case(implausible_edd)


def test_creatinine_converted_once_to_mg_dl(make_case: Callable[[dict[str, Any]], Case]) -> None:
    raw = {
        **BASE,
        "observations": [
            {"date": "2026-02-20", "code": "creatinine", "value": 97.24, "unit": "µmol/L"}
        ],
    }
    creatinine = make_case(raw).latest("creatinine")
    assert creatinine is not None
    assert creatinine.unit == "mg/dL"
    assert creatinine.value == Decimal("1.1")
    assert creatinine.given == "97.24 µmol/L"


def test_lower_case_units_accepted(make_case: Callable[[dict[str, Any]], Case]) -> None:
    raw = {
        **BASE,
        "observations": [
            {"date": "2026-02-20", "code": "creatinine", "value": 0.8, "unit": "mg/dl"}
        ],
    }
    assert make_case(raw).latest("creatinine").value == Decimal("0.8")  # type: ignore[union-attr]


def test_viral_loads_keep_their_own_units(make_case: Callable[[dict[str, Any]], Case]) -> None:
    raw = {
        **BASE,
        "observations": [
            {
                "date": "2026-02-20",
                "code": "cmv_dna",
                "specimen": "plasma",
                "value": 1500,
                "unit": "IU/mL",
            },
            {
                "date": "2026-02-21",
                "code": "cmv_dna",
                "specimen": "plasma",
                "value": 1500,
                "unit": "copies/ml",
            },
        ],
    }
    loads = make_case(raw).results("cmv_dna", "plasma")
    assert [(o.value, o.unit) for o in loads] == [(1500, "IU/mL"), (1500, "copies/mL")]


def test_creatinine_limit_is_inclusive(make_case: Callable[[dict[str, Any]], Case]) -> None:
    raw = {
        **BASE,
        "observations": [
            {"date": "2026-02-20", "code": "creatinine", "value": 20, "unit": "mg/dL"}
        ],
    }
    assert make_case(raw).latest("creatinine").value == 20  # type: ignore[union-attr]
    raw["observations"][0]["value"] = 20.01
    with pytest.raises(CaseFormatError, match="implausible"):
        make_case(raw)


def test_ga_44_0_accepted_44_1_refused(make_case: Callable[[dict[str, Any]], Case]) -> None:
    at_limit = {**BASE, "pregnancy": {"dating": {"date": "2026-03-02", "gestational_age": "44+0"}}}
    assert make_case(at_limit).pregnancy is not None
    beyond = {**BASE, "pregnancy": {"dating": {"date": "2026-03-02", "gestational_age": "44+1"}}}
    with pytest.raises(CaseFormatError, match="44\\+1 is implausible"):
        make_case(beyond)


def test_settings_are_refused_when_unknown(knowledge: Knowledge) -> None:
    with pytest.raises(SettingsError, match="unknown setting"):
        parse_settings({"no_such_setting": 1}, knowledge)


def test_unset_setting_is_reported_missing(knowledge: Knowledge) -> None:
    result = PathwayResult()
    with pytest.raises(SettingsError, match="declares no such setting"):
        use_setting(result, SiteSettings(), knowledge, "no_such_setting")


@given(st.text(alphabet=st.characters(blacklist_characters="?!"), min_size=1).filter(
    lambda t: t.rstrip(". ")
))
def test_a_quoted_row_ends_with_one_full_stop_whether_or_not_it_has_its_own(row: str) -> None:
    # pack rows are written both ways ("... (label §5.1)." and "hold the drug; recheck the ANC")
    quoted = sentence(f"valganciclovir: {row}")
    assert quoted.endswith(".") and not quoted.endswith("..")
    assert quoted == sentence(f"valganciclovir: {row}.") == sentence(f"valganciclovir: {clause(row)}")


def test_sentences_of_pack_rows() -> None:
    assert sentence("Do not give valganciclovir (label §5.1).") == (
        "Do not give valganciclovir (label §5.1)."
    )
    assert sentence("hold the drug") == "hold the drug."
    assert sentence("Is the count rising?") == "Is the count rising?"
    assert clause("Do not give valganciclovir (label §5.1).") == "Do not give valganciclovir (label §5.1)"


def test_the_normalised_copy_is_what_model_copy_gives(
    make_case: Callable[[dict[str, Any]], Case],
) -> None:
    """``_replaced`` (the parser's cheap copy, issue 20) against ``model_copy`` and against a
    validated copy (``dataclasses.replace`` calls the validating ``__init__``): the case parts
    are pydantic dataclasses (ADR 0033), without a model's "fields set"."""
    import dataclasses

    from cmvcds.domain.case import _replaced

    raw = {
        **BASE,
        "observations": [
            {"date": "2026-02-20", "code": "creatinine", "value": 97.24, "unit": "µmol/L"}
        ],
    }
    case = make_case(raw)
    observation = case.observations[0]
    update = {"given": "1 mg/dL", "value": Decimal("1"), "unit": "mg/dL", "specimen": None}
    for model, changes in ((observation, update), (case, {"observations": ()}), (case, {})):
        ours, theirs = _replaced(model, changes), model.model_copy(update=changes)
        validated = dataclasses.replace(model, **changes)
        assert ours == theirs == validated and hash(ours) == hash(theirs) == hash(validated)
        assert ours.__dict__ == theirs.__dict__ == validated.__dict__
        assert ours.model_dump() == theirs.model_dump() == validated.model_dump()
        assert ours is not model and ours.__dict__ is not model.__dict__
    with pytest.raises(ValueError, match="frozen"):
        _replaced(observation, update).value = Decimal(2)  # type: ignore[misc]


def test_observations_completed_in_place_are_what_the_copies_give(knowledge: Knowledge) -> None:
    """``parse_case`` completes the observations it built from mappings in place (issue 20) and
    copies one given as a model instance (pydantic keeps it: the caller's object, never
    changed): both give the same case, on the observations of every generated case."""
    import sys
    from pathlib import Path

    from cmvcds.domain.case import Observation, parse_case

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from bulk_cases import generate

    checked = 0
    for raw in generate(60):
        given = [Observation.model_validate(o) for o in raw.get("observations", ())]
        before = [o.model_dump() for o in given]
        in_place = parse_case(raw, knowledge, today=date(2026, 12, 7))
        copied = parse_case({**raw, "observations": given}, knowledge, today=date(2026, 12, 7))
        assert in_place == copied
        assert in_place.model_dump() == copied.model_dump()
        assert in_place.__dict__ == copied.__dict__
        for ours, theirs in zip(in_place.observations, copied.observations, strict=True):
            assert ours.__dict__ == theirs.__dict__
            assert ours.model_dump(mode="json") == theirs.model_dump(mode="json")
        assert [o.model_dump() for o in given] == before  # the caller's instances unchanged
        checked += len(given)
    assert checked > 100
