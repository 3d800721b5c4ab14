"""One deeply nested line in a FHIR Bulk export (probe12 #5): an error record, and the run goes on.

The probe's hostile Observation (its code 5 000 objects deep) ended ``assess-bulk`` with
RecursionError, exit 1, no patient assessed. The same line in a case NDJSON already gave a
``cmvcds-bulk-error/1`` record ("nested more than 40 levels deep"); now an export line does too,
refused before it is parsed (``fhir_export._too_deep``), and the other patients are assessed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmvcds.adapters.bulk import ERROR_FORMAT
from cmvcds.adapters.bulk.fhir_export import MAX_DEPTH, _too_deep

from .test_probe6_export import creatinine, run, write

DEEP = ('{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"code":'
        + '{"a":' * 5000 + "1" + "}" * 5000 + "}\n")  # fmt: skip


def test_a_deep_line_is_an_error_record_and_the_run_goes_on(tmp_path: Path) -> None:
    write(tmp_path, creatinine("a1", "pA", "2026-11-20"))
    with (tmp_path / "Observation.ndjson").open("a") as handle:
        handle.write(DEEP)
    write(tmp_path, creatinine("b1", "pB", "2026-11-21"))
    lines = run(tmp_path)
    errors = [x for x in lines if x.get("format") == ERROR_FORMAT]
    assert errors == [{"format": ERROR_FORMAT, "source": "Observation.ndjson", "line": 2,
                       "case_id": None, "error": f"nested more than {MAX_DEPTH} levels deep"}]  # fmt: skip
    assert sorted(x["case_id"] for x in lines if x.get("format") != ERROR_FORMAT) == ["pA", "pB"]


@pytest.mark.parametrize(("depth", "deep"), [(MAX_DEPTH, False), (MAX_DEPTH + 1, True)])
def test_the_bound_is_exact_and_brackets_in_strings_do_not_count(depth: int, deep: bool) -> None:
    nested = "[" * depth + "]" * depth
    assert _too_deep(nested.encode()) is deep
    inside = '{"text":"' + "[{" * 200 + '\\" [[["}'  # brackets (and an escaped quote) in a string
    assert _too_deep(inside.encode()) is False
