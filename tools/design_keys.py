"""Compare what ``cmvcds assess --format json`` emits for ``examples/*.yaml`` with design.md §4.

``python tools/design_keys.py [DESIGN.md]`` (default ``docs/design.md``) prints the keys emitted but
not named in §4 (its JSON example and the keys its prose names), the keys named but emitted by no
example, and the decision ids, outcomes, schedule events and alert codes outside §4's lists. The
``findings`` object is free-form in §4 (an example only): its keys are listed apart.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROSE_KEYS = {"decisions[].genes", "decisions[].settings_used", "settings", "schedule[].latest",
              "schedule[].reason"}


def paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value (``a.b``, ``list[].key``)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found |= {path} | paths(item, path)
    elif isinstance(value, list):
        for item in value:
            found |= paths(item, prefix + "[]")
    return found


def listed(section: str, marker: str) -> set[str]:
    """The backticked words of the bullet of §4 that starts at ``marker``."""
    return set(re.findall(r"`([a-z_-]+)`", section.split(marker)[1].split("\n- ")[0]))


def main() -> None:
    design = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "design.md").read_text()
    section = design.split("## 4. The assessment (v1)")[1].split("### The dose calculator")[0]
    documented = paths(json.loads(section.split("```json")[1].split("```")[0])) | PROSE_KEYS
    vocabularies = {"outcome": listed(section, "- `outcome` is one of"),
                    "decision": listed(section, "- Decision ids:"),
                    "event": listed(section, "Schedule events:"),
                    "alert": listed(section, "- Alert codes")}
    emitted: dict[str, set[str]] = {}
    values: dict[str, set[str]] = {name: set() for name in vocabularies}
    for case in sorted((ROOT / "examples").glob("*.yaml")):
        run = subprocess.run([sys.executable, "-m", "cmvcds", "assess", str(case), "--format", "json"],
                             capture_output=True, text=True, cwd=ROOT, check=False)
        if run.returncode != 0:
            print(f"not a case, left out: {case.name}")
            continue
        assessment = json.loads(run.stdout)
        for path in paths(assessment):
            emitted.setdefault(path, set()).add(case.name)
        values["outcome"] |= {d["outcome"] for d in assessment["decisions"]}
        values["decision"] |= {d["id"] for d in assessment["decisions"]}
        values["event"] |= {s["event"] for s in assessment["schedule"]}
        values["alert"] |= {a["code"] for a in assessment["alerts"]}
    free = {p for p in emitted if p.startswith("findings.")}
    print("emitted, not in §4:")
    for path in sorted(set(emitted) - documented - free):
        print(f"  {path}  ({len(emitted[path])} examples, e.g. {min(emitted[path])})")
    print("in §4, emitted by no example:", ", ".join(sorted(documented - set(emitted))) or "none")
    print("findings keys emitted:", ", ".join(sorted(free - documented)))
    for name, allowed in vocabularies.items():
        print(f"{name} values outside §4's list: {sorted(values[name] - allowed)}; "
              f"listed but never emitted: {sorted(allowed - values[name])}")


if __name__ == "__main__":
    main()
