"""``cmvcds.knowledge.pyyaml``: PyYAML imported with a cheaper, equivalent compiled pattern for
the characters its pure-Python reader refuses (issue 20, item 3)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cmvcds.knowledge.pyyaml import PYYAML_NON_PRINTABLE, SAME_CHARACTERS, yaml


def test_the_two_patterns_match_exactly_the_same_code_points() -> None:
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    pyyaml = re.compile(PYYAML_NON_PRINTABLE)
    ours = re.compile(SAME_CHARACTERS)
    assert [m.start() for m in ours.finditer(every)] == [m.start() for m in pyyaml.finditer(every)]
    assert len(ours.findall(every)) == 9 + 2 + 18 + 6 + 26 + 2048 + 2  # not an empty match set


def test_pyyaml_still_writes_the_pattern_we_seed() -> None:
    """A PyYAML that changed its pattern would compile its own: this says the seeding is stale."""
    import yaml.reader

    source = Path(yaml.reader.__file__).read_text(encoding="utf-8")
    line = next(line for line in source.splitlines() if "NON_PRINTABLE = re.compile(" in line)
    assert ast.literal_eval(line.split("re.compile(", 1)[1].rsplit(")", 1)[0]) == (
        PYYAML_NON_PRINTABLE
    )


def test_a_fresh_interpreter_reading_documents_gets_the_seeded_pattern() -> None:
    """The case-file reader (what ``cmvcds assess`` imports) imports PyYAML through the seed."""
    code = (
        "import cmvcds.domain.documents, yaml.reader; "
        "from cmvcds.knowledge.pyyaml import SAME_CHARACTERS; "
        "print(yaml.reader.Reader.NON_PRINTABLE.pattern == SAME_CHARACTERS)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


@pytest.mark.parametrize("bad", ["\x07", "\x7f", "\x9f", "\ud800", "\ufffe"])
def test_the_pure_python_reader_still_refuses_a_non_printable_character(bad: str) -> None:
    with pytest.raises(yaml.reader.ReaderError) as refused:
        yaml.load(f"a: b{bad}c\n", Loader=yaml.SafeLoader)
    assert f"#x{ord(bad):04x}" in str(refused.value)
    assert yaml.load("a: b\u00a0\u00e9\U0001f600c\n", Loader=yaml.SafeLoader) == {
        "a": "b\u00a0\u00e9\U0001f600c"
    }
