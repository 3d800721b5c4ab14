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

import functools
import sys
from collections.abc import Callable
from typing import Any

from engine_instructions import arguments, collect_from_here, counted, prepared

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
    from cmvcds.assess import assess

    knowledge, settings, chosen, _ = prepared(cases, context)
    calls: list[Call] = []
    restore = _recorded(calls)
    for case in chosen:
        assess(case, knowledge, settings=settings)
    restore()
    print(f"measured cases: {len(chosen)}, dose calls: {len(calls)}", file=sys.stderr)
    collect_from_here()
    functools.reduce(lambda _, call: call[0](*call[1], **call[2]), calls, None)


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    if args.inside:
        measured(args.cases, args.context)
        return
    n, instructions = counted(__file__, args.cases, args.context)
    print(f"{args.context}: {n} cases, dosing {instructions // n:,} instructions per case")


if __name__ == "__main__":
    main()
