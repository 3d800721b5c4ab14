"""Role and site isolation at the service layer: a site-A user can neither read nor guess site B."""

from __future__ import annotations

from datetime import date

import pytest

from cmvcds.errors import AccessDenied, InputError
from cmvcds.registry import analytics, exports
from cmvcds.registry.services import crf, subjects

from .conftest import World
from .helpers import CONSENT, enrol, pregnancy


@pytest.fixture
def two_sites(world: World) -> tuple[str, str]:
    with world.registry.session(world.entry_a) as s:
        key_a = pregnancy(s, world.entry_a, treated=True, transmitted=False, mrn="A-1")
    with world.registry.session(world.entry_b) as s:
        key_b = pregnancy(s, world.entry_b, treated=False, transmitted=True, mrn="B-1")
    return key_a, key_b


def test_site_user_cannot_read_or_guess_another_site(
    world: World, two_sites: tuple[str, str]
) -> None:
    key_a, key_b = two_sites
    a = world.entry_a
    with world.registry.session(a) as s:
        assert [x.pseudonym for x in subjects.list_subjects(s, a)] == [key_a]
        assert crf.read_form(s, a, key_a, "valacyclovir_start", "valacyclovir") == {"treated": "1"}
        with pytest.raises(AccessDenied) as other:
            crf.read_form(s, a, key_b, "valacyclovir_start", "valacyclovir")
        guess = key_b[:-1] + ("0" if key_b[-1] != "0" else "1")
        with pytest.raises(AccessDenied) as absent:
            subjects.get_subject(s, a, guess)
    # the refusal of an existing other-site subject reads exactly like that of a missing one
    assert str(other.value).replace(key_b, "X") == str(absent.value).replace(guess, "X")


def test_site_user_cannot_write_enrol_or_answer_for_another_site(
    world: World, two_sites: tuple[str, str]
) -> None:
    _key_a, key_b = two_sites
    a = world.entry_a
    with pytest.raises(AccessDenied), world.registry.session(a) as s:
        crf.save_form(
            s, a, key_b, "valacyclovir_start", "valacyclovir", {"treated": "1"}, reason="x"
        )
    with pytest.raises(AccessDenied), world.registry.session(a) as s:
        enrol(s, a, site_id=world.site_b)
    with pytest.raises(AccessDenied), world.registry.session(a) as s:
        subjects.withdraw_consent(s, a, key_b, on=date(2026, 2, 1), reason="x")
    with world.registry.session(world.monitor) as s:
        query = crf.open_query(
            s, world.monitor, key_b, "valacyclovir_start", "valacyclovir", "treated", "Source?"
        )
    with pytest.raises(AccessDenied), world.registry.session(a) as s:
        crf.answer_query(s, a, query.id, "yes")


def test_identity_link_is_for_the_own_site_only(world: World, two_sites: tuple[str, str]) -> None:
    key_a, key_b = two_sites
    with world.registry.session(world.pi_a) as s:
        assert subjects.identity_of(s, world.pi_a, key_a) == "A-1"
        with pytest.raises(AccessDenied):
            subjects.identity_of(s, world.pi_a, key_b)
    for central in (world.monitor, world.dm, world.stat, world.admin):
        with pytest.raises(AccessDenied), world.registry.session(central) as s:
            subjects.identity_of(s, central, key_a)


def test_roles(world: World, two_sites: tuple[str, str]) -> None:
    key_a, _ = two_sites
    with world.registry.session(world.monitor) as s:  # monitors see all sites, change no data
        assert len(subjects.list_subjects(s, world.monitor)) == 2
        with pytest.raises(AccessDenied):
            crf.save_form(
                s,
                world.monitor,
                key_a,
                "valacyclovir_start",
                "valacyclovir",
                {"treated": "0"},
                reason="x",
            )
    with (
        pytest.raises(AccessDenied),
        world.registry.session(world.stat) as s,
    ):  # statistician: no records
        subjects.get_subject(s, world.stat, key_a)
    with world.registry.session(world.stat) as s:  # … but analyses and central exports
        assert analytics.analyse(s, world.stat, "transmission-at-amniocentesis")["overall"]["table"] == {
            "exposed": [0, 1], "unexposed": [1, 0]}  # fmt: skip
        assert exports.export(s, world.stat, fmt="redcap", profile="central").subjects == 2
    with pytest.raises(AccessDenied), world.registry.session(world.stat) as s:
        exports.export(s, world.stat, fmt="redcap", profile="site")
    with (
        pytest.raises(AccessDenied),
        world.registry.session(world.entry_a) as s,
    ):  # data entry: no export
        exports.export(s, world.entry_a, fmt="redcap", profile="site")
    with pytest.raises(AccessDenied), world.registry.session(world.entry_a) as s:
        crf.open_query(
            s, world.entry_a, key_a, "valacyclovir_start", "valacyclovir", "treated", "?"
        )


def test_site_investigator_exports_and_analyses_only_the_own_site(
    world: World, two_sites: tuple[str, str]
) -> None:
    key_a, _ = two_sites
    with world.registry.session(world.pi_a) as s:
        result = exports.export(s, world.pi_a, fmt="redcap", profile="site")
        assert result.subjects == 1
        assert key_a in result.files["records.csv"]
        table = analytics.analyse(s, world.pi_a, "transmission-at-amniocentesis")["overall"][
            "table"
        ]
        assert table == {"exposed": [0, 1], "unexposed": [0, 0]}
        assert [row["site"] for row in analytics.dashboard(s, world.pi_a)] == ["FI01"]


def test_newborn_is_enrolled_at_the_mother_site(world: World, two_sites: tuple[str, str]) -> None:
    key_a, key_b = two_sites
    a = world.entry_a
    with world.registry.session(a) as s:
        child = subjects.enrol_newborn(s, a, mother=key_a, hospital_record_number="NB-1",
                                       enrolled_on=date(2026, 7, 1), consent=CONSENT)  # fmt: skip
        assert child.site_id == world.site_a and child.pseudonym.startswith("FI01-N")
        with pytest.raises(AccessDenied):
            subjects.enrol_newborn(s, a, mother=key_b, hospital_record_number="NB-2",
                                   enrolled_on=date(2026, 7, 1), consent=CONSENT)  # fmt: skip
        with pytest.raises(InputError, match="belongs to the mother"):
            crf.save_form(
                s, a, child.pseudonym, "amniocentesis", "amniocentesis", {"amnio_done": "0"}
            )
