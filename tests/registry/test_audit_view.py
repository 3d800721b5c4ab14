"""The audit page a monitor can use: filters by subject, user, form and date, pages, labels."""

from __future__ import annotations

from datetime import date

from cmvcds.registry.audit_view import AuditFilter, audit_page
from cmvcds.registry.identity import HIDDEN

from .conftest import World
from .helpers import cohort_of


def test_filters_pages_and_labels(world: World) -> None:
    keys = cohort_of(world)
    with world.registry.session(world.monitor) as s:
        everything = audit_page(s, world.monitor, AuditFilter(limit=1000)).rows
        keep = audit_page(s, world.monitor, AuditFilter(subject=keys["keep"], limit=1000)).rows
        by_form = audit_page(s, world.monitor, AuditFilter(form="amniocentesis", limit=1000)).rows
        by_user = audit_page(s, world.monitor, AuditFilter(user="entry_a", limit=1000)).rows
        today = date.fromisoformat(everything[0].at[:10])
        none_yet = audit_page(s, world.monitor, AuditFilter(date_to=date(2000, 1, 1))).rows
        dated = audit_page(
            s, world.monitor, AuditFilter(date_from=today, date_to=today, limit=1000)
        )
        first = audit_page(s, world.monitor, AuditFilter(limit=10))
        second = audit_page(s, world.monitor, AuditFilter(limit=10, before=first.older))
    assert keep and {r.subject for r in keep} == {keys["keep"]}  # the mother's own entries only
    assert {r.action for r in keep} >= {"create"} and any(r.what == "form value" for r in keep)
    assert by_form and all("/amniocentesis#" in r.field for r in by_form)
    assert by_user and {r.username for r in by_user} == {"entry_a"}
    assert none_yet == [] and len(dated.rows) == len(everything)
    assert [r.seq for r in first.rows] == [r.seq for r in everything[:10]]
    assert [r.seq for r in second.rows] == [r.seq for r in everything[10:20]]
    assert {r.site for r in keep} == {"FI01"}  # the site's code, not its internal id
    links = [r for r in everything if r.what == "record-number link"]
    assert links and {r.new for r in links if r.field == "hospital_record_number"} == {HIDDEN}
    with world.registry.session(world.pi_a) as s:
        own = audit_page(s, world.pi_a, AuditFilter(subject=keys["keep"], limit=1000)).rows
    assert "A-KEEP" in {r.new for r in own}  # the site's investigator may see it


def test_a_page_cursor_beyond_any_integer_is_no_server_error(world: World) -> None:
    with world.registry.session(world.monitor) as s:
        rows = audit_page(s, world.monitor, AuditFilter(before=2**70, limit=5)).rows
    assert len(rows) == 5


def test_the_filters_offer_the_users_a_reader_may_see_and_the_study_forms(world: World) -> None:
    """The user filter lists who appears in the trail the reader may read (no more for a site
    role than for a monitor); the form filter lists the study's forms; every
    CRF field is named by its event, form and field labels."""
    cohort_of(world)
    with world.registry.session(world.monitor) as s:
        central = audit_page(s, world.monitor, AuditFilter(limit=1000))
    with world.registry.session(world.pi_a) as s:
        site = audit_page(s, world.pi_a, AuditFilter(limit=1000))
    assert "entry_a" in central.users and "entry_a" in site.users
    assert set(site.users) <= set(central.users)
    assert site.users == sorted(site.users)
    assert central.forms["amniocentesis"] == "amniocentesis"
    assert central.forms["maternal_infection"] == "maternal infection"
    labelled = [r.field_label for r in central.rows if r.what == "form value"]
    assert labelled and all(" · " in label and "#" in label for label in labelled)
    assert "Amniocentesis · amniocentesis #1 · CMV DNA (PCR) in amniotic fluid" in labelled
