"""Case report forms: the dictionary round-trip, hard validation, soft checks and queries."""

from __future__ import annotations

import csv
import io

import pytest

from cmvcds.errors import InputError
from cmvcds.knowledge import DEFAULT_PACK
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.dictionary import crf_from_knowledge, dictionary_csv, parse_dictionary
from cmvcds.registry.models import QueryStatus
from cmvcds.registry.services import crf

from .conftest import World
from .helpers import enrol

SHIPPED = (DEFAULT_PACK / "registry" / "dictionary.csv").read_text(encoding="utf-8")


def test_dictionary_round_trip() -> None:
    fields = parse_dictionary(SHIPPED)
    assert dictionary_csv(fields) == SHIPPED
    assert fields[0].field_name == "record_id"
    header = next(csv.reader(io.StringIO(SHIPPED)))
    assert len(header) == 18
    assert header[5] == "Choices, Calculations, OR Slider Labels"
    assert [f.field_name for f in fields if f.identifier == "y"] == [
        "maternal_birth_date", "outcome_date", "nb_birth_date"]  # fmt: skip


def test_dictionary_design_is_consistent() -> None:
    design = crf_from_knowledge()
    forms = set(design.forms)
    for event in design.design.events:
        assert set(event.instruments) <= forms, event.name
    assert set(design.design.repeating) == {
        "drug_course",
        "laboratory",
        "ultrasound",
        "adverse_event",
    }
    assert [e.name for e in design.design.events] == [
        "maternal_diagnosis", "valacyclovir_start", "amniocentesis", "delivery", "newborn_birth",
        "month_1", "month_3", "month_6", "month_12", "month_24",
    ]  # fmt: skip
    for check in design.design.soft_checks:
        assert (
            check.field in design.by_name
            and design.by_name[check.field].form_name == check.instrument
        )


@pytest.mark.parametrize(("text", "where"), [
    (SHIPPED.replace("Variable / Field Name", "Variable"), "header"),
    (SHIPPED.replace("record_id,enrolment,Enrolment,text", "record_id,enrolment,Enrolment,texty"), "row 2"),
    (SHIPPED + "fetuses,enrolment,,text,Again,,,,,,,,,,,,,\n", "row 56"),
    (SHIPPED + "late_field,enrolment,,text,Late,,,,,,,,,,,,,\n", "row 56"),
])  # fmt: skip
def test_dictionary_errors_name_the_place(text: str, where: str) -> None:
    with pytest.raises(InputError) as error:
        parse_dictionary(text)
    assert where in str(error.value)


@pytest.mark.parametrize(("values", "message"), [
    ({"amnio_ga_days": "twenty"}, "not a whole number"),
    ({"amnio_ga_days": "140.5"}, "not a whole number"),
    ({"amnio_ga_days": "69"}, "outside 70–300"),
    ({"amnio_cmv_pcr": "2"}, "not a choice"),
    ({"amnio_date": "2026-02-30"}, "not a date"),
    ({"fetuses": "1"}, "not a field of 'amniocentesis'"),
])  # fmt: skip
def test_hard_errors_refuse_the_form(world: World, values: dict[str, str], message: str) -> None:
    a = world.entry_a
    with world.registry.session(a) as s:
        key = enrol(s, a)
    with pytest.raises(InputError, match=message), world.registry.session(a) as s:
        crf.save_form(s, a, key, "amniocentesis", "amniocentesis", {"amnio_done": "1", **values})
    with world.registry.session(a) as s:
        assert crf.read_form(s, a, key, "amniocentesis", "amniocentesis") == {}


def test_boundaries_are_inclusive(world: World) -> None:
    a = world.entry_a
    with world.registry.session(a) as s:
        key = enrol(s, a)
        result = crf.save_form(
            s, a, key, "amniocentesis", "amniocentesis", {"amnio_done": "1", "amnio_ga_days": "70"}
        )
        assert result.values["amnio_ga_days"] == "70"


def test_slots_events_and_repeating_instruments(world: World) -> None:
    a = world.entry_a
    with world.registry.session(a) as s:
        key = enrol(s, a)
        for instance, term in ((1, "nausea"), (2, "headache")):
            crf.save_form(s, a, key, "valacyclovir_start", "adverse_event", {
                "ae_term": term, "ae_onset": "2026-02-01", "ae_severity": "1", "ae_relation": "3", "ae_serious": "0",
            }, instance=instance)  # fmt: skip
        assert (
            crf.read_form(s, a, key, "valacyclovir_start", "adverse_event", instance=2)["ae_term"]
            == "headache"
        )
    for event, instrument, instance, message in [
        ("delivery", "amniocentesis", 1, "does not collect"),
        ("amniocentesis", "amniocentesis", 2, "only repeating"),
        ("month_99", "newborn_followup", 1, "unknown event"),
    ]:
        with pytest.raises(InputError, match=message), world.registry.session(a) as s:
            crf.save_form(s, a, key, event, instrument, {"amnio_done": "1"}, instance=instance)


def test_soft_check_opens_a_query_and_the_workflow(world: World) -> None:
    a = world.entry_a
    with world.registry.session(a) as s:
        key = enrol(s, a)
        # 20+1 weeks = 141 days: 140 opens a query, 141 does not
        assert (
            crf.save_form(
                s,
                a,
                key,
                "amniocentesis",
                "amniocentesis",
                {"amnio_done": "1", "amnio_ga_days": "141"},
            ).queries
            == []
        )
        saved = crf.save_form(
            s,
            a,
            key,
            "amniocentesis",
            "amniocentesis",
            {"amnio_ga_days": "140"},
            reason="corrected",
        )
        assert saved.values["amnio_ga_days"] == "140"  # stored: a soft check never refuses
        [query_id] = saved.queries
        again = crf.save_form(
            s, a, key, "amniocentesis", "amniocentesis", {"amnio_ga_days": "139"}, reason="x"
        )
        assert again.queries == []  # the same check is not asked twice while open
        assert crf.event_grid(s, a, key)["amniocentesis"]["amniocentesis"] == "query"
    with world.registry.session(a) as s:
        query = crf.answer_query(s, a, query_id, "Confirmed on the lab report: 20+0 weeks")
        assert query.status == QueryStatus.ANSWERED
    with pytest.raises(InputError, match="only an open query"), world.registry.session(a) as s:
        crf.answer_query(s, a, query_id, "again")
    with world.registry.session(world.monitor) as s:
        assert crf.close_query(s, world.monitor, query_id).status == QueryStatus.CLOSED
    with world.registry.session(a) as s:
        assert crf.event_grid(s, a, key)["amniocentesis"]["amniocentesis"] == "complete"


def test_event_grid_statuses(world: World) -> None:
    a = world.entry_a
    with world.registry.session(a) as s:
        key = enrol(s, a)
        crf.save_form(
            s, a, key, "maternal_diagnosis", "enrolment", {"enrolment_date": "2026-01-12"}
        )
        grid = crf.event_grid(s, a, key)
    assert grid["maternal_diagnosis"]["enrolment"] == "incomplete"  # fetuses, 648 consent required
    assert grid["delivery"] == {"pregnancy_outcome": "empty", "adverse_event": "empty"}
    assert "newborn_birth" not in grid


def test_import_dictionary_makes_it_the_forms_in_force(world: World) -> None:
    changed = SHIPPED.replace("Number of fetuses", "Number of fetuses (ultrasound)")
    with world.registry.session(SYSTEM) as s:
        crf.import_dictionary(s, SYSTEM, changed, version="2026.12.0")
    with world.registry.session(SYSTEM) as s:
        assert crf.current_crf(s).by_name["fetuses"].field_label == "Number of fetuses (ultrasound)"
    broken = (
        "\n".join(line for line in SHIPPED.splitlines() if ",amniocentesis," not in line) + "\n"
    )
    with pytest.raises(InputError, match="lacks instrument"), world.registry.session(SYSTEM) as s:
        crf.import_dictionary(s, SYSTEM, broken, version="bad")
    renamed = SHIPPED.replace("\nae_relation,", "\nae_causality,")
    with (
        pytest.raises(InputError, match=r"lacks field.*ae_relation"),
        world.registry.session(SYSTEM) as s,
    ):
        crf.import_dictionary(s, SYSTEM, renamed, version="bad")
