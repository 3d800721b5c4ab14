"""The assessment as a clinician reads it in a terminal: decisions first, then dates, doses,
alerts and missing data, each line with its citations in brackets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["assessment_text"]


def _cite(item: dict[str, Any]) -> str:
    citations = item.get("citations") or []
    return f"  [{'; '.join(citations)}]" if citations else ""


def _english(message: str) -> str:
    return message


def assessment_text(doc: dict[str, Any], _: Callable[[str], str] = _english) -> str:
    """Render a ``cmvcds-assessment/1`` document as plain text; ``_`` says its own words in
    another language (``cmvcds assess --lang it`` passes ``web.i18n.gettext``: the English
    path imports no web module, ``tests/test_cold_start.py``); the clinical texts come
    translated with the document (``web.texts.document_in``)."""
    k = doc["knowledge"]
    lines = [
        _("cmvcds assessment — case %(case)s (%(context)s) on %(date)s")
        % {"case": doc["case_id"], "context": doc["context"], "date": doc["assessed_on"]},
        _("knowledge %(version)s (sha256 %(sha)s…)") % {"version": k["version"], "sha": k["sha256"][:12]},
        "",
        _("DECISIONS"),
    ]
    for d in doc["decisions"]:
        lines.append(f"  {d['id']}: {d['outcome'].upper()}{_cite(d)}")
        lines += [f"    - {reason}" for reason in d.get("reasons", [])]
        if d.get("genes"):
            lines.append("    " + _("genes to sequence:") + " " + ", ".join(d["genes"]))
    if doc["findings"]:
        lines += ["", _("FINDINGS")]
        for key, value in doc["findings"].items():
            if key == "viral_load_kinetics":
                lines += _kinetics(value)
            elif key == "long_course_review":
                lines += _long_course(value)
            else:
                lines.append(f"  {key}: {_flat(value)}")
    if doc["regimens"]:
        lines += ["", _("REGIMENS")]
        for g in doc["regimens"]:
            dose = (
                f"{g.get('dose_mg')} mg" if g.get("dose_mg") is not None else "dose: see decision"
            )
            if g.get("dose_mg_per_kg") is not None:
                dose += f" ({g['dose_mg_per_kg']} mg/kg)"
            if g.get("oral_solution_ml") is not None:
                dose += f" = {g['oral_solution_ml']} mL of oral solution"
            every = (
                f" every {g['every_h']} h" if g.get("every_h") else f" {g.get('schedule') or ''}"
            )
            span = f" from {g.get('start', '?')} to {g.get('stop') or 'open'}"
            if g.get("held"):
                lines.append(f"  HOLD {g['drug']}: {g['held']}; dose when restarted:")
            lines.append(
                f"  {g['drug']} {dose}{every} {g['route']} ({g['indication']}){span}{_cite(g)}"
            )
            if g.get("stop_rule"):
                lines.append("    " + _("stop:") + " " + str(g["stop_rule"]))
            if g.get("weight_kg") is not None:
                lines.append(f"    on weight {g['weight_kg']} kg ({g.get('weight_date') or 'undated'})")
            if g.get("renal_basis"):
                lines.append(f"    renal function used: {g['renal_basis']}")
    if doc["schedule"]:
        lines += ["", _("SCHEDULE")]
        for s in doc["schedule"]:
            window = s["earliest"] + (f" – {s['latest']}" if s.get("latest") else "")
            reason = f": {s['reason']}" if s.get("reason") else ""
            lines.append(f"  {window}  {s['event']}{reason}{_cite(s)}")
    if doc["alerts"]:
        lines += ["", _("ALERTS")]
        lines += [
            f"  [{a['severity']}] {a['code']}: {a['message']}{_cite(a)}" for a in doc["alerts"]
        ]
    if doc["missing"]:
        lines += ["", _("MISSING DATA")]
        lines += [f"  {m['item']}: {m['why']}" for m in doc["missing"]]
    if doc.get("settings"):
        origins = {u["name"]: u for u in doc.get("settings_detail", [])}
        lines += ["", _("SETTINGS USED (site settings file, else the cited reference profile)")]
        for name, value in doc["settings"].items():
            use = origins.get(name)
            if use is not None and use["origin"] == "reference-profile":
                lines.append(
                    f"  {name} = {value}  reference profile: {use.get('basis', '')}{_cite(use)}"
                )
            else:
                lines.append(f"  {name} = {value}  (site)")
    lines += ["", _("Decision support only: it does not replace clinical judgement.")]
    return "\n".join(lines)


def _kinetics(kinetics: dict[str, Any]) -> list[str]:
    """Viral loads per series (specimen and unit, never mixed): latest, nadir, change, trend."""
    lines = ["  viral load (per specimen and unit):"]
    for series in kinetics.get("series", []):
        points = series.get("points") or []
        if not points:
            continue
        latest, nadir = points[-1], series.get("nadir") or {}
        line = f"    {series['key']}: latest {latest['value']} on {latest['day']}"
        if nadir:
            line += f"; nadir {nadir['value']} on {nadir['day']}"
        if series.get("change_from_nadir_log10") is not None:
            line += f"; {series['change_from_nadir_log10']:+.2f} log10 from nadir"
        if series.get("doubling_time_days") is not None:
            line += f"; doubling time {series['doubling_time_days']} days"
        lines.append(line)
    for marker in kinetics.get("markers", []):
        lines.append(
            f"    {marker['day']} {marker['series']}: {marker['code']} ({marker['label']})"
        )
    return lines


def _long_course(review: dict[str, Any]) -> list[str]:
    """The risk–benefit review of a course beyond its planned months (seed 001): each course of
    the child side by side, one line per result, dated."""
    course = review["course"]
    lines = [
        f"  risk–benefit review: {course['drug']} from {course['start']} (planned end "
        f"{course['planned_end']}), {course['months_on_therapy']} months on therapy"
        f"{_cite(review)}"
    ]
    for ear, hearing in (review.get("hearing") or {}).items():
        points = ", ".join(
            f"{r['date']} {r['threshold_db']} dB HL" for r in hearing.get("results", [])
        )
        lines.append(f"    hearing {ear}: {points} ({hearing.get('trend')})")
    for assessment in ("neurodevelopment", "ophthalmology"):
        for r in review.get(assessment) or []:
            lines.append(f"    {assessment}: {r['date']} {r['result']}")
    loads = review.get("viral_load") or []
    if loads:
        lines.append(
            "    viral load: "
            + ", ".join(
                f"{o['date']} {o['value'] if o['value'] is not None else o['result']}"
                f"{' ' + o['unit'] if o['value'] is not None else ''} ({o['specimen']})"
                for o in loads
            )
        )
    labs = review.get("toxicity") or []
    if labs:
        lines.append(
            "    toxicity labs: "
            + ", ".join(f"{o['date']} {o['code']} {o['value']} {o['unit']}" for o in labs)
        )
    for t in review.get("courses_stopped") or []:
        lines.append(f"    course stopped: {t['drug']} {t['start']}–{t['stop']} ({t['stop_reason']})")
    for g in review.get("genotypes") or []:
        lines.append(f"    genotype {g['date']}: {', '.join(g['mutations']) or 'no mutation'}")
    if review.get("not_recorded"):
        lines.append(f"    not recorded: {'; '.join(review['not_recorded'])}")
    return lines


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " – ".join(_flat(v) for v in value)
    return str(value)
