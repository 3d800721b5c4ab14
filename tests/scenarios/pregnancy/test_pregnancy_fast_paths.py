"""The pregnancy pathway's cheaper computations give exactly what the plain ones gave (issue 20).

Each test keeps the plain computation the engine used before, and compares it with the engine's
on many random inputs and on the pack's own tables: same values, same order, same alerts.
"""

from __future__ import annotations

import gzip
import json
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from tests.golden.codec import decode

from cmvcds.domain.case import Case, Observation, parse_case
from cmvcds.domain.gestational_age import GestationalAge
from cmvcds.domain.results import PathwayResult, ScheduleItem
from cmvcds.domain.vocabulary import ScheduleEvent
from cmvcds.engine.pregnancy import exclusions, infection
from cmvcds.engine.pregnancy.dating import ga_text
from cmvcds.engine.pregnancy.monitoring import monitoring_plan, monitoring_schedule
from cmvcds.errors import CmvcdsError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.pregnancy import MonitoringItem, MonitoringTable

GOLDEN = Path(__file__).parents[2] / "golden" / "golden.ndjson.gz"


def _golden_cases(knowledge: Knowledge) -> list[Case]:
    """Every case of the golden file that has observations: real inputs, all contexts."""
    if _PARSED:
        return _PARSED
    found = _PARSED
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            try:
                case = parse_case(
                    decode(record["case"]), knowledge, today=date.fromisoformat(record["today"])
                )
            except CmvcdsError:
                continue
            if case.observations:
                found.append(case)
    return found


_PARSED: list[Case] = []


def _days_around(case: Case, rng: random.Random) -> list[date]:
    """The case's own dates and a few around them: every boundary of ``on`` is crossed."""
    dates = sorted({o.date for o in case.observations})
    return [*dates, dates[0] - timedelta(days=1), *(rng.choice(dates) for _ in range(3))]


def _plain_of(seen: list[Observation], code: str) -> list[Observation]:
    return sorted(
        (o for o in seen if o.code == code),
        key=lambda o: (o.date, o.result or "", o.specimen or ""),
    )


def test_serology_by_code_matches_the_plain_filter(knowledge: Knowledge) -> None:
    rng = random.Random(13)
    for case in _golden_cases(knowledge):
        for on in _days_around(case, rng):
            seen = [o for o in case.observations if o.date <= on]
            for code in ("cmv_igg", "cmv_igm", "cmv_igg_avidity", "cmv_dna", "creatinine"):
                assert infection._of(case, code, on) == _plain_of(seen, code), (case.id, on)


def _plain_latest(case: Case, codes: tuple[str, ...], on: date) -> Observation | None:
    found = [
        o for code in codes for o in case.results(code) if o.date <= on and o.value is not None
    ]
    return max(found, key=lambda o: o.date) if found else None


def test_latest_renal_result_matches_the_plain_maximum(knowledge: Knowledge) -> None:
    rng = random.Random(14)
    for case in _golden_cases(knowledge):
        for on in _days_around(case, rng):
            for codes in (("creatinine",), ("egfr", "creatinine_clearance_24h")):
                assert exclusions._latest(case, codes, on) is _plain_latest(case, codes, on)


def test_gestational_age_text_is_the_domain_printing() -> None:
    for days in range(0, 1500):
        assert ga_text(days) == str(GestationalAge(days))


def _plain_schedule(
    table: MonitoringTable, course: str, start: date, until: date, result: PathwayResult
) -> list[ScheduleItem]:
    """Table 2 as the pathway read it before: row by row, repeats added one date at a time."""
    items: list[ScheduleItem] = []
    for row in table.items:
        if course not in row.applies_to:
            continue
        offsets = sorted(set(row.at_days))
        if row.every_days:
            day = (offsets[-1] if offsets else 0) + row.every_days
            while start + timedelta(days=day) < until:
                offsets.append(day)
                day += row.every_days
        planned = [start + timedelta(days=d) for d in offsets if start + timedelta(days=d) < until]
        if not planned:
            continue
        citations = result.cite(row, f"monitoring during valacyclovir: {row.event} ({row.reason})")
        items += [
            ScheduleItem(ScheduleEvent(row.event), day, citations, reason=row.reason)
            for day in planned
        ]
    return items


def _random_table(rng: random.Random) -> MonitoringTable:
    events = ["renal-function", "blood-count", "liver-function", "fetal-ultrasound"]
    courses = ["prevention", "fetal-treatment"]
    rows = []
    for _ in range(rng.randint(0, 5)):
        rows.append(
            MonitoringItem(
                event=rng.choice(events),  # type: ignore[arg-type]
                applies_to=tuple(rng.choices(courses, k=rng.randint(1, 3))),  # type: ignore[arg-type]
                at_days=tuple(rng.randint(-5, 60) for _ in range(rng.randint(0, 4))),
                every_days=rng.choice([None, 1, 7, 14, 28, 30]),
                reason=f"reason {rng.randint(0, 9)}",
                citations=("cmvcds2026-pregnancy-interpretations",),
                verified=rng.random() < 0.5,
            )
        )
    return MonitoringTable(items=tuple(rows))


def _same(table: MonitoringTable, course: str, start: date, until: date) -> None:
    plain, fast = PathwayResult(), PathwayResult()
    expected = _plain_schedule(table, course, start, until, plain)
    assert monitoring_schedule(monitoring_plan(table), course, start, until, fast) == expected
    assert fast.alerts == plain.alerts


def test_monitoring_schedule_matches_the_plain_loop(knowledge: Knowledge) -> None:
    rng = random.Random(2026)
    pack = knowledge.table("pregnancy_monitoring", MonitoringTable)
    for _ in range(3_000):
        start = date(2026, 1, 1) + timedelta(days=rng.randint(0, 400))
        until = start + timedelta(days=rng.randint(-30, 300))
        course = rng.choice(["prevention", "fetal-treatment"])
        _same(pack, course, start, until)
        _same(_random_table(rng), course, start, until)


def _plain_contradictions(
    igg: list[Observation], igm: list[Observation], avidity: list[Observation]
) -> list[tuple[str, str]]:
    """I-9 as the pathway read it before: every list grouped by day, same day or not."""
    found: list[tuple[str, str]] = []
    for code, name, rows in (
        ("cmv_igg", "IgG", igg),
        ("cmv_igm", "IgM", igm),
        ("cmv_igg_avidity", "IgG avidity", avidity),
    ):
        by_day: dict[date, set[str]] = {}
        for o in rows:
            if o.result is not None and o.result != "equivocal":
                by_day.setdefault(o.date, set()).add(o.result)
        found += [
            (code, f"CMV {name} both {' and '.join(sorted(results))} on {day}")
            for day, results in sorted(by_day.items())
            if len(results) > 1
        ]
    positive = next((o.date for o in igg if o.result == "positive"), None)
    later = [
        o.date for o in igg if o.result == "negative" and positive is not None and o.date > positive
    ]
    if positive is not None and later:
        found.append(
            (
                "cmv_igg",
                f"CMV IgG positive on {positive} but negative on {later[0]} (reverse seroconversion)",
            )
        )
    return found


def test_contradictions_match_the_plain_grouping(knowledge: Knowledge) -> None:
    rng = random.Random(15)
    contradictory = 0
    for case in _golden_cases(knowledge):
        for on in _days_around(case, rng):
            igg = infection._of(case, "cmv_igg", on)
            igm = infection._of(case, "cmv_igm", on)
            avidity = [o for o in infection._of(case, "cmv_igg_avidity", on) if o.result]
            expected = _plain_contradictions(igg, igm, avidity)
            assert infection.contradictions(igg, igm, avidity) == expected, (case.id, on)
            contradictory += bool(expected)
    assert contradictory  # the golden cases hold same-day contradictions


def test_egfr_shown_is_the_plain_truncation() -> None:
    rng = random.Random(16)
    values = [Fraction(rng.randint(-(10**7), 10**7), rng.randint(1, 10**5)) for _ in range(20_000)]
    values += [Fraction(0), Fraction(-1, 20), Fraction(899, 10), Fraction(8999, 100)]
    for value in values:
        assert exclusions._shown(value) == Decimal(int(value * 10)) / 10, value
        assert str(exclusions._shown(value)) == str(Decimal(int(value * 10)) / 10), value


def test_shown_against_tries_the_same_places() -> None:
    rng = random.Random(17)
    for _ in range(20_000):
        value = Decimal(rng.randint(0, 10**8)).scaleb(-rng.randint(0, 8))
        limit = Decimal(rng.choice(["1.1", "90", "12", "1.10", "0"]))
        expected = value
        for places in range(2, 7):
            shown = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
            if (shown > limit) == (value > limit) and (shown < limit) == (value < limit):
                expected = shown
                break
        assert str(exclusions.shown_against(value, limit)) == str(expected), (value, limit)
