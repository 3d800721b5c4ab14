"""The console script's fast path (``adapters/cli/argv.py``, issue 20 items 3-4): the plain forms
of ``cmvcds assess`` and ``cmvcds ask`` run without Typer and print exactly what the Typer app
prints (stdout, stderr, exit code) for the same argv; every other form falls back to Typer."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pydantic
import pytest
from typer.testing import CliRunner

from cmvcds.adapters.cli import argv
from cmvcds.adapters.cli.main import app
from cmvcds.adapters.cli.no_plugins import LOADER

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BAD = ROOT / "tests" / "bad_inputs"
QUESTION = "Valganciclovir dose after kidney transplant with CrCl 35"

#: Forms the fast path answers: each example as text and JSON, options before and after the
#: case, with ``=``, with settings, errors (unreadable, refused, invalid case) and Ask answers.
FAST = [
    *(["assess", str(case)] for case in sorted(EXAMPLES.glob("*.yaml")) if case.stem != "settings"),
    *(
        ["assess", str(case), "--format", "json"]
        for case in sorted(EXAMPLES.glob("*.yaml"))
        if case.stem != "settings"
    ),
    ["assess", "--format=html", str(EXAMPLES / "congenital.yaml")],
    ["assess", str(EXAMPLES / "pregnancy.yaml"), "--format", "fhir"],
    ["assess", str(EXAMPLES / "pregnancy.yaml"), "--settings", str(EXAMPLES / "settings.yaml")],
    ["assess", str(EXAMPLES / "missing.yaml")],
    *(
        ["assess", str(EXAMPLES / "pregnancy.yaml"), "--lang", "it", "--format", fmt]
        for fmt in ("text", "json", "html", "fhir")
    ),
    ["assess", "--lang=en", str(EXAMPLES / "transplant-kidney-dposrneg.yaml")],
    ["assess", str(EXAMPLES / "missing.yaml"), "--lang", "it"],
    ["assess", str(EXAMPLES)],
    ["assess", str(BAD / "01-unknown-top-key.yaml")],
    ["assess", str(BAD / "07-bad-date.yaml"), "--format", "json"],
    ["assess", str(EXAMPLES / "pregnancy.yaml"), "--settings", str(BAD / "04-wrong-format.yaml")],
    ["ask", QUESTION],
    ["ask", QUESTION, "--format", "json", "--audience", "patient"],
    ["ask", "sono incinta, posso prendere valaciclovir?", "--audience=auto"],
    ["ask", "ganciclovir dose", "--case", str(EXAMPLES / "transplant-kidney-dposrneg.yaml")],
    ["ask", "ganciclovir dose", "--case", str(EXAMPLES / "missing.yaml")],
    ["ask", "what is the weather tomorrow"],
    ["ask", "ganciclovir dose", "--settings", str(EXAMPLES / "settings.yaml")],  # refused: no case
]

#: Forms left to Typer: help, typos, missing or extra arguments, unknown, repeated or valueless
#: options, invalid or differently cased choices, ``--``, a dash or an empty value.
TYPER = [
    [],
    ["--help"],
    ["asess", "case.yaml"],
    ["assess"],
    ["assess", "--help"],
    ["assess", "case.yaml", "--help"],
    ["assess", "case.yaml", "-h"],
    ["assess", "a.yaml", "b.yaml"],
    ["assess", "case.yaml", "--format"],
    ["assess", "case.yaml", "--format", "xml"],
    ["assess", "case.yaml", "--format", "JSON"],
    ["assess", "case.yaml", "--format", "json", "--format", "text"],
    ["assess", "case.yaml", "--fromat", "json"],
    ["assess", "case.yaml", "--audience", "patient"],
    ["assess", "--", "case.yaml"],
    ["assess", "-"],
    ["assess", ""],
    ["assess", "case.yaml", "--settings", ""],
    ["assess", "case.yaml", "--lang", "fr"],
    ["assess", "case.yaml", "--lang", "IT"],
    ["assess", "case.yaml", "--lang", "it", "--lang", "en"],
    ["assess", "case.yaml", "--lang"],
    ["ask"],
    ["ask", "question", "--case", "--help"],
    ["ask", "question", "--audience", "nobody"],
    ["ask", "question", "--format", "html"],
    ["ask", "question", "--settings=-"],
    ["ask", ""],
    ["validate", "case.yaml"],
]


def _fast(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        assert argv.run(args), f"the fast path did not take {args}"
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else 1
    assert gc.isenabled()  # the collector, off while the command runs, is back for the caller
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("args", FAST, ids=lambda a: " ".join(Path(x).name for x in a)[:60])
def test_the_fast_path_prints_what_typer_prints(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "__all__")  # as the fast path sets it
    typer = CliRunner().invoke(app, args)
    assert _fast(args, capsys) == (typer.exit_code, typer.stdout, typer.stderr)
    assert typer.stdout or typer.exit_code == 2  # each form prints an answer or fails on input


@pytest.mark.parametrize("args", TYPER, ids=lambda a: " ".join(a) or "(none)")
def test_every_other_form_is_left_to_typer(args: list[str]) -> None:
    assert argv.parse(args) is None


def test_the_console_script_falls_back_to_typer_with_its_message_and_exit_code() -> None:
    """``cmvcds assess CASE --format xml``: not a plain form, so Typer names the valid choices."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cmvcds",
            "assess",
            str(EXAMPLES / "pregnancy.yaml"),
            "--format",
            "xml",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "'xml' is not one of" in done.stderr and done.stdout == ""


LISTING = (
    "import sys; sys.argv = ['cmvcds', 'assess', sys.argv[1], '--format=json']\n"
    "from cmvcds.adapters.cli.main import run\n"
    "run(); print('@@', sorted(m for m in sys.modules if m.split('.')[0] in "
    "('typer', 'click', 'importlib') and m != 'importlib'))"
)


def _fast_path_modules(**env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", LISTING, str(EXAMPLES / "pregnancy.yaml")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    report, modules = done.stdout.rsplit("@@", 1)
    assert json.loads(report)["context"] == "pregnancy"  # the assessment ran and printed
    return modules


def test_the_console_script_takes_the_fast_path_without_typer_or_plugin_discovery() -> None:
    modules = _fast_path_modules()
    assert "typer" not in modules and "click" not in modules
    assert "importlib.metadata" not in modules  # pydantic's plugin loader stood in for


def test_plugins_the_user_asks_for_are_still_looked_for() -> None:
    """``PYDANTIC_DISABLE_PLUGINS`` set by the user (here empty: no plugin disabled) is kept, and
    pydantic's own loader then looks for plugins."""
    assert "importlib.metadata" in _fast_path_modules(PYDANTIC_DISABLE_PLUGINS="")


def test_pydantic_imports_only_get_plugins_from_the_loader_no_plugins_stands_in_for() -> None:
    """``no_plugins`` answers ``get_plugins`` alone: a pydantic that imports more from its loader
    (an upgrade) fails here, not in a user's ``cmvcds assess``."""
    package = Path(pydantic.__file__).parent
    names: set[str] = set()
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        names |= {
            name.strip()
            for found in re.findall(r"from (?:\.|pydantic\.plugin\.)_loader import ([\w, ]+)", text)
            for name in found.split(",")
        }
        assert "_loader." not in text.replace("._loader import", ""), source
    assert names == {"get_plugins"}
    assert LOADER == "pydantic.plugin._loader"


def test_ask_refuses_settings_without_a_case(capsys: pytest.CaptureFixture[str]) -> None:
    """Settings shape only a personalised answer: given alone they would be dropped without a
    word, so both paths refuse them (exit 2) and say what is needed."""
    code, out, err = _fast(
        ["ask", "ganciclovir dose", "--settings", str(EXAMPLES / "settings.yaml")], capsys
    )
    assert (code, out) == (2, "")
    assert "--settings" in err and "--case" in err


def test_a_closed_pipe_ends_quietly() -> None:
    """``cmvcds assess CASE | head -c0``: the reader left; no 'internal error' line, exit 1."""
    done = subprocess.run(
        f"{sys.executable} -m cmvcds assess {EXAMPLES / 'congenital.yaml'} --format json | head -c0",
        shell=True,
        capture_output=True,
        text=True,
        executable="/bin/bash",
    )
    assert done.stderr == ""


def test_an_unreadable_case_gets_the_same_message_on_both_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typer's own readability check would word an unreadable file differently from the fast
    path; it is off, so both name the file with cmvcds's message. (The tests may run as root,
    for whom every file is readable: the operating system's refusal is simulated.)"""
    locked = tmp_path / "locked.yaml"
    locked.write_text((EXAMPLES / "pregnancy.yaml").read_text())
    real_access, real_open = os.access, Path.open

    def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        return False if os.fspath(path) == str(locked) else real_access(path, mode, *args, **kwargs)  # type: ignore[arg-type]

    def open_(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if str(self) == str(locked):
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(Path, "open", open_)
    monkeypatch.setattr(Path, "read_bytes", lambda self: open_(self, "rb").read())
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "__all__")
    for args in (["assess", str(locked)], ["ask", "ganciclovir dose", "--case", str(locked)]):
        typer = CliRunner().invoke(app, args)
        assert _fast(args, capsys) == (typer.exit_code, typer.stdout, typer.stderr)
        assert typer.exit_code == 2 and "not readable" not in typer.stderr


def test_exit_handlers_registered_before_the_command_still_run() -> None:
    """A profiler or coverage registers an exit handler and then runs the console script: the
    command must not end the process before that handler runs (review23d: ``python -m cProfile
    -o p.prof -m cmvcds assess …`` wrote no profile)."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran'))\n"
        f"sys.argv = ['cmvcds', 'assess', {str(EXAMPLES / 'pregnancy.yaml')!r}]\n"
        "from cmvcds.adapters.cli.main import console\n"
        "console()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "valacyclovir" in done.stdout.lower()
    assert done.stdout.rstrip().endswith("exit handler ran")


def test_no_home_directory_means_no_code_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A uid without a passwd entry and no HOME/XDG_CACHE_HOME: the cache is off, not a traceback
    (review23d)."""
    from cmvcds.domain import code_cache

    monkeypatch.delenv("CMVCDS_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert code_cache.cache_file("assess") is None


def test_each_interpreter_build_and_optimisation_level_has_its_own_code_cache_file() -> None:
    """``python`` and ``python -O`` (or two 3.11.x builds) sharing a cache folder keep a file
    each instead of rewriting one on every run (review23d)."""
    env = {**os.environ, "CMVCDS_CACHE_DIR": "/tmp/cmvcds-cache-name-test"}
    names = {
        subprocess.run(
            [
                sys.executable,
                *flags,
                "-c",
                "from cmvcds.domain import code_cache; print(code_cache.cache_file('assess').name)",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout.strip()
        for flags in ([], ["-O"])
    }
    assert len(names) == 2, names
