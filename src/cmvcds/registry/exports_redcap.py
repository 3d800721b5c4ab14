"""REDCap exports a project imports as is: the data CSV and the longitudinal setup files.

The data CSV carries only fields of the exported dictionary (``dictionary.csv`` of the same
export): the record id first, then ``redcap_event_name``, ``redcap_repeat_instrument``,
``redcap_repeat_instance``, ``redcap_data_access_group``, then the fields in dictionary order
(checkboxes as ``field___code``), each form closed by ``<form>_complete``. The links REDCap has
no column for (mother of a newborn; in the site profile the hospital record number) are added
to the exported dictionary as the form ``record_links`` (after the first form), designated to
the first event of each arm, so the CSV has no column REDCap would reject. A row fills only the forms its event collects (REDCap refuses data for a form not
designated to the event); a repeating form's row fills only that form.

Setup files, in the CSV layout of REDCap's API methods "Import Arms/Events/Instrument-Event
Mappings/Repeating Instruments and Events/DAGs" (column names from the API documentation as
quoted by the redcapAPI and REDCapR packages; arms, events and DAG columns not confirmed
against a REDCap server): one arm, mothers' and newborns' events in it (the event names stay
``<event>_arm_1`` as before; docs/adr/0016); an event's unique name is REDCap's: the event name lower-cased, non-alphanumerics as
``_``, cut to 18 characters, plus ``_arm_<n>``.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict

from cmvcds.knowledge.schemas.registry import DictionaryField, StudyEvent
from cmvcds.registry.dictionary import Crf, choices, dictionary_csv
from cmvcds.registry.export_load import ExportSubject

__all__ = ["ARMS", "dag_name", "export_dictionary", "records_csv", "setup_files", "unique_event"]

ARMS = {"mother": (1, "Mothers and newborns"), "newborn": (1, "Mothers and newborns")}
LINKS_FORM = "record_links"
RECORD_LINKS = {
    "mother_record_id": "Record id of the mother (newborns only)",
    "hospital_record_number": "Hospital record number (identified site export only)",
}


def unique_event(event: StudyEvent) -> str:
    """REDCap's unique event name of ``event`` in its arm."""
    base = re.sub(r"[^a-z0-9]+", "_", event.name.lower()).strip("_")[:18]
    return f"{base}_arm_{ARMS[event.subject][0]}"


def dag_name(site: str) -> str:
    """REDCap's unique DAG name of a site code (lower case, non-alphanumerics as ``_``)."""
    return re.sub(r"[^a-z0-9]+", "_", site.lower()).strip("_")[:18]


def export_dictionary(
    fields: tuple[DictionaryField, ...], profile: str
) -> tuple[DictionaryField, ...]:
    """The exported fields plus the record links as the form ``record_links``, after the first."""
    first = fields[0]
    links = [
        first.model_copy(update={
            "field_name": name, "form_name": LINKS_FORM, "field_type": "text", "field_label": label,
            "section_header": "Record links" if name == "mother_record_id" else "",
            "choices": "", "validation": "", "identifier": "y" if name == "hospital_record_number" else "",
            "required": "", "branching_logic": "", "field_note": "", "field_annotation": "@READONLY",
        })
        for name, label in RECORD_LINKS.items()
        if name == "mother_record_id" or profile == "site"
    ]  # fmt: skip
    cut = next((n for n, row in enumerate(fields) if row.form_name != first.form_name), len(fields))
    return (*fields[:cut], *links, *fields[cut:])


def _first_events(crf: Crf) -> dict[str, StudyEvent]:
    """The first event of each arm (subject kind): where the record links are kept."""
    first: dict[str, StudyEvent] = {}
    for event in crf.design.events:
        first.setdefault(event.subject, event)
    return first


Column = tuple[str, DictionaryField | None, str | None, str]  # name, field, checkbox code, form


def _columns(fields: tuple[DictionaryField, ...]) -> list[Column]:
    columns: list[Column] = []
    for n, row in enumerate(fields):
        if n and row.field_type != "descriptive":
            if row.field_type == "checkbox":
                columns.extend((f"{row.field_name}___{code}", row, code, row.form_name)
                               for code in choices(row))  # fmt: skip
            else:
                columns.append((row.field_name, row, None, row.form_name))
        if n + 1 == len(fields) or fields[n + 1].form_name != row.form_name:
            columns.append((f"{row.form_name}_complete", None, None, row.form_name))
    return columns


def records_csv(
    crf: Crf, fields: tuple[DictionaryField, ...], subjects: list[ExportSubject]
) -> str:
    """The REDCap data import CSV (``fields`` is the exported dictionary)."""
    columns = _columns(fields)
    repeating = set(crf.design.repeating)
    events = {e.name: e for e in crf.design.events}
    order = {e.name: i for i, e in enumerate(crf.design.events)}
    first_events = _first_events(crf)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([fields[0].field_name, "redcap_event_name", "redcap_repeat_instrument",
                     "redcap_repeat_instance", "redcap_data_access_group"]
                    + [name for name, _row, _code, _form in columns])  # fmt: skip
    for subject in subjects:
        lines: dict[tuple[str, str, int], dict[str, str]] = {}
        status: dict[tuple[str, str, int], dict[str, str]] = defaultdict(dict)
        for (event, instrument, instance), cells in subject.values.items():
            key = (event, instrument, instance) if instrument in repeating else (event, "", 0)
            lines.setdefault(key, {}).update(cells)
            status[key][instrument] = subject.status[(event, instrument, instance)]
        links = {
            "mother_record_id": subject.mother or "",
            "hospital_record_number": subject.identity or "",
        }
        home = first_events[subject.kind].name
        lines.setdefault((home, "", 0), {})
        for event, instrument, instance in sorted(
            lines, key=lambda k: (order.get(k[0], 99), k[1], k[2])
        ):
            ev = events[event]
            forms = {instrument} if instrument else set(ev.instruments) - repeating
            if event == home and not instrument:
                forms.add(LINKS_FORM)
            cells = {
                **lines[(event, instrument, instance)],
                **(links if LINKS_FORM in forms else {}),
            }
            line = [subject.key, unique_event(ev), instrument, str(instance) if instrument else "",
                    dag_name(subject.site)]  # fmt: skip
            for _name, row, code, form in columns:
                if form not in forms:
                    line.append("")
                elif row is None:
                    line.append(status[(event, instrument, instance)].get(form, ""))
                elif code is not None:
                    raw = cells.get(row.field_name, "")
                    line.append(("1" if code in raw.split(",") else "0") if raw else "")
                else:
                    line.append(cells.get(row.field_name, ""))
            writer.writerow(line)
    return out.getvalue()


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def setup_files(crf: Crf, fields: tuple[DictionaryField, ...], sites: list[str]) -> dict[str, str]:
    """Dictionary, arms, events, instrument-event mapping, repeating instruments, DAGs."""
    arms = sorted({ARMS[e.subject] for e in crf.design.events})
    forms = {row.form_name for row in fields}
    homes = {e.name for e in _first_events(crf).values()}
    return {
        "dictionary.csv": dictionary_csv(fields),
        "arms.csv": _csv([["arm_num", "name"]] + [[str(num), name] for num, name in arms]),
        "events.csv": _csv([["event_name", "arm_num", "unique_event_name", "custom_event_label"]]
                           + [[e.name, str(ARMS[e.subject][0]), unique_event(e), e.label]
                              for e in crf.design.events]),
        "instrument_event_mapping.csv": _csv(
            [["arm_num", "unique_event_name", "form"]]
            + [[str(ARMS[e.subject][0]), unique_event(e), form]
               for e in crf.design.events
               for form in (*e.instruments, *((LINKS_FORM,) if e.name in homes else ()))
               if form in forms]),
        "repeating_instruments.csv": _csv(
            [["event_name", "form_name", "custom_form_label"]]
            + [[unique_event(e), form, ""] for e in crf.design.events
               for form in e.instruments if form in crf.design.repeating and form in forms]),
        "data_access_groups.csv": _csv(
            [["data_access_group_name", "unique_group_name"]]
            + [[site, dag_name(site)] for site in sorted(set(sites))]),
    }  # fmt: skip
