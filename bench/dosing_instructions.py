"""Machine instructions per case spent in the dose calculator alone, by context (issue 20).

    .venv/bin/python bench/dosing_instructions.py [--cases 240] [--context ALL|transplant|...]

``engine_instructions.py`` counts a whole ``assess()``; the dose calculator's share is spread
over the pathways that call it. Here the same cases are assessed once (the first half unmeasured,
as there), recording every call the pathways make into it (``dose_patient_from_case``,
``recommend_dose``, ``check_dose``, ``DoseResult.as_regimen(s)``), in order, with their
arguments; then only those calls are made again, in the same order, inside ``functools.reduce``
under callgrind. The memos see the same sequence as in the assessment. Needs ``valgrind``;
prints ``dosing instructions per case`` for the code on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def _recorded(calls: list[Call]) -> Callable[[], None]:
    """Route the pathways' calls into the dose calculator through a recorder; returns the undo."""
    from cmvcds.engine import dosing
    from cmvcds.engine.dosing.result import DoseResult

    targets = {
        id(f): f for f in (dosing.dose_patient_from_case, dosing.recommend_dose, dosing.check_dose)
    }

    def recorder(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **options: Any) -> Any:
            calls.append((function, args, options))
            return function(*args, **options)

        return call

    undo: list[tuple[Any, str, Any]] = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("cmvcds.") or name.startswith("cmvcds.engine.dosing"):
            continue  # the dose calculator's own calls inside are part of the recorded ones
        for attribute, value in list(vars(module).items()):
            if targets.get(id(value)) is value:
                setattr(module, attribute, recorder(value))
                undo.append((module, attribute, value))
    for method in ("as_regimen", "as_regimens"):
        original = getattr(DoseResult, method)
        setattr(DoseResult, method, recorder(original))
        undo.append((DoseResult, method, original))

    def restore() -> None:
        for owner, attribute, value in undo:
            setattr(owner, attribute, value)

    return restore


def measured(cases: int, context: str) -> None:
    """Inside valgrind: assess, recording the dose calls, then replay them measured."""
    sys.path.insert(0, str(ROOT / "tools"))
    from bulk_cases import generate

    from cmvcds.adapters.bulk import Job
    from cmvcds.adapters.bulk.worker import prepare
    from cmvcds.assess import assess
    from cmvcds.domain.case import parse_case
    from cmvcds.domain.documents import parse_document

    job = Job(today=date(2026, 12, 7))
    knowledge, settings = prepare(job)
    parsed = [
        parse_case(
            parse_document(json.dumps(c).encode(), "line", "json"), knowledge, today=job.today
        )
        for c in generate(cases)
    ]
    warm, chosen = parsed[: cases // 2], parsed[cases // 2 :]
    for case in warm:
        assess(case, knowledge, settings=settings)
    if context != "ALL":
        chosen = [c for c in chosen if c.context.value == context]
    calls: list[Call] = []
    restore = _recorded(calls)
    for case in chosen:
        assess(case, knowledge, settings=settings)
    restore()
    print(f"measured cases: {len(chosen)}, dose calls: {len(calls)}", file=sys.stderr)
    subprocess.run(
        ["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True
    )
    functools.reduce(lambda _, call: call[0](*call[1], **call[2]), calls, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=240)
    parser.add_argument("--context", default="ALL")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        measured(args.cases, args.context)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed: nothing measured")
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
        "--toggle-collect=functools_reduce", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--inside", "--cases", str(args.cases), "--context", args.context,
    ]  # fmt: skip
    run = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
    )
    count = re.search(r"measured cases: (\d+)", run.stderr)
    collected = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode or count is None or collected is None or int(count.group(1)) == 0:
        sys.exit(run.stderr[-2000:])
    n = int(count.group(1))
    print(
        f"{args.context}: {n} cases, dosing {int(collected.group(1)) // n:,} instructions per case"
    )


if __name__ == "__main__":
    main()
