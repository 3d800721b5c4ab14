"""Cold start (issue 20, item 3): `cmvcds assess` imports only what an assessment needs - no web
framework, database, registry, FHIR models, Biopython, scipy or dask, nor the other commands -
driven as the console script runs it, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pregnancy.yaml"

HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "Bio",
    "fhir",
    "scipy",
    "dask",
    "statsmodels",
    "pandas",
    "cmvcds.registry.store",
    "cmvcds.adapters.api",
    "cmvcds.adapters.web",
    # the other commands' modules: the console script builds only the command it runs
    "cmvcds.adapters.cli.ask",
    "cmvcds.adapters.cli.registry",
    "cmvcds.adapters.cli.serve",
    "cmvcds.adapters.cli.resistance",
    "cmvcds.adapters.cli.simulate",
)

RUN_AND_LIST = """
import json, sys
sys.argv = ["cmvcds", "assess", sys.argv[1]]
from cmvcds.adapters.cli.main import run
try:
    run()
except SystemExit as end:
    code = end.code
else:
    code = 0
print("\\n@@" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_assess_imports_no_heavy_module() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=True,
    )
    report, listing = done.stdout.rsplit("\n@@", 1)
    result = json.loads(listing)
    assert result["code"] in (0, None)
    assert "valacyclovir" in report.lower()  # the assessment really ran and printed its answer
    loaded = [m for m in result["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert "cmvcds.assess" in result["modules"]  # the listing is of the process that assessed
    assert loaded == []


#: What a pregnancy case never needs: other contexts' engines and their knowledge classes.
OTHER_CONTEXTS = (
    "cmvcds.engine.hiv",
    "cmvcds.engine.transplant",
    "cmvcds.engine.congenital",
    "cmvcds.engine.immune",
    "cmvcds.engine.resistance",
    "cmvcds.knowledge.schemas.resistance",
    "cmvcds.knowledge.schemas.congenital",
    "cmvcds.knowledge.schemas.answers",
    "cmvcds.knowledge.schemas.registry",
    "cmvcds.knowledge.schemas.fhir",
    # nor, without therapy or a viral load, the monitoring pathway (engine/monitoring/gate.py)
    "cmvcds.engine.monitoring.pathway",
    "cmvcds.engine.kinetics",
    "cmvcds.knowledge.schemas.monitoring",
    "cmvcds.knowledge.schemas.transplant",
)


def test_a_pregnancy_imports_only_its_own_engines_and_tables() -> None:
    """Engines are imported per context and a cached pack unpickles per table (issue 20 item 3)."""
    from cmvcds.knowledge import load_knowledge

    load_knowledge()  # the compiled pack is in this run's cache (the child shares the folder)
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = json.loads(done.stdout.rsplit("\n@@", 1)[1])["modules"]
    assert "cmvcds.engine.pregnancy" in modules
    loaded = [m for m in modules if any(m == h or m.startswith(h + ".") for h in OTHER_CONTEXTS)]
    assert loaded == []


def test_help_and_an_unknown_command_still_see_every_command() -> None:
    """Only a known command name narrows the app; help lists them all, a typo is named."""
    from cmvcds.adapters.cli.main import COMMANDS

    shown = subprocess.run(
        [sys.executable, "-m", "cmvcds", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert all(name in shown for name in COMMANDS)
    typo = subprocess.run([sys.executable, "-m", "cmvcds", "asess"], capture_output=True, text=True)
    assert typo.returncode == 2
    assert "No such command 'asess'" in typo.stderr


READ_TABLES = """
import sys
from datetime import date
from cmvcds.assess import assess
from cmvcds.adapters.cli.common import read_case_file
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import load_knowledge
from pathlib import Path
knowledge = load_knowledge()
case = parse_case(read_case_file(Path(sys.argv[1])), knowledge, today=date(2026, 12, 7))
assess(case, knowledge)
tables = knowledge.tables
print(len(getattr(tables, "_loaded", tables)), len(tables))
"""


def test_a_pregnancy_under_treatment_reads_only_the_tables_it_needs(tmp_path: Path) -> None:
    # a cached pack unpickles a table when it is read; a review found every table read to
    # learn which drugs the pregnancy protocol owns (~180 ms of a cold run)
    example = EXAMPLE.with_name("pregnancy-fetal-treatment.yaml")
    env = {"CMVCDS_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # the first run writes the cache, the second reads it
        done = subprocess.run(
            [sys.executable, "-c", READ_TABLES, str(example)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    read, total = map(int, done.stdout.split())
    assert read < total / 2, (read, total)
