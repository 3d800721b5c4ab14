"""Review answer statements: list them by status, submit, approve or return one (or a template).

    python tools/review_answers.py list [--status draft]
    python tools/review_answers.py submit  STATEMENT_ID --reviewer NAME [--date YYYY-MM-DD]
    python tools/review_answers.py approve STATEMENT_ID --reviewer NAME [--role ROLE] [--date YYYY-MM-DD]
    python tools/review_answers.py return  STATEMENT_ID --reviewer NAME --comment "what to change"

This tool edits the review records shipped in the knowledge pack (``answers/statements.yaml``
and ``answers/templates.yaml``): the status a deployment starts from. Where a registry database
is configured, reviewers work on the registry's page ``/registry/review`` instead; their actions
are stored there with the audit trail and take precedence in every answer. The tool rewrites one line — the statement's ``review:`` line — so the file keeps its
comments and layout; the transition itself is ``cmvcds.engine.answers.apply_review``. Bump the
pack's version in ``manifest.yaml`` after a review session.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from cmvcds.engine.answers import apply_review
from cmvcds.errors import CmvcdsError
from cmvcds.knowledge import DEFAULT_PACK
from cmvcds.knowledge.schemas.answers import ReviewAction, ReviewRecord

FILES = ("answers/statements.yaml", "answers/templates.yaml")


def _entries(text: str) -> list[dict[str, Any]]:
    raw = yaml.safe_load(text) or {}
    return list(raw.get("statements", raw.get("templates", [])))


def find(pack: Path, statement_id: str) -> tuple[Path, dict[str, Any]]:
    for name in FILES:
        path = pack / name
        for entry in _entries(path.read_text(encoding="utf-8")):
            if entry.get("id") == statement_id:
                return path, entry
    raise SystemExit(f"error: no statement or template {statement_id!r} in {pack}/answers")


def review_line(record: ReviewRecord) -> str:
    """The record as one line of flow YAML (JSON is YAML): the file's layout stays as it is."""
    data = record.model_dump(mode="json", exclude_none=True)
    if not data.get("history"):
        data.pop("history", None)
    return "review: " + json.dumps(data, ensure_ascii=False)


def rewrite(path: Path, statement_id: str, record: ReviewRecord) -> None:
    """Replace the ``review:`` line of entry ``statement_id`` in ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if re.match(rf"^- id: {re.escape(statement_id)}\s*$", line)
        ),
        None,
    )
    if start is None:
        raise SystemExit(f"error: {path}: cannot find '- id: {statement_id}'")
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("- ") or not lines[i].startswith((" ", "\t")):
            break
        match = re.match(r"^(\s+)review:", lines[i])
        if match:
            lines[i] = f"{match.group(1)}{review_line(record)}\n"
            path.write_text("".join(lines), encoding="utf-8")
            return
    raise SystemExit(f"error: {path}: entry {statement_id} has no one-line review record")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pack", type=Path, default=DEFAULT_PACK, help="knowledge pack folder")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="statements and templates with their review status")
    listing.add_argument("--status", choices=["draft", "under_review", "approved"])
    for action in ReviewAction:
        p = sub.add_parser(action.value, help=f"{action.value} a statement or template")
        p.add_argument("id")
        p.add_argument("--reviewer", required=True)
        p.add_argument("--date", type=date.fromisoformat, default=date.today())
        p.add_argument("--comment")
        p.add_argument(
            "--role",
            help="the reviewer's role, shown with an approval (e.g. 'infectious-disease physician')",
        )
    args = parser.parse_args(argv)
    pack: Path = args.pack
    if args.command == "list":
        for name in FILES:
            for entry in _entries((pack / name).read_text(encoding="utf-8")):
                status = (entry.get("review") or {}).get("status", "draft")
                if args.status in (None, status):
                    print(f"{status:<13} {entry['id']}")
        return 0
    path, entry = find(pack, args.id)
    record = ReviewRecord.model_validate(entry.get("review") or {})
    try:
        version = yaml.safe_load((pack / "manifest.yaml").read_text(encoding="utf-8"))["version"]
        updated = apply_review(
            record,
            ReviewAction(args.command),
            args.reviewer,
            args.date,
            args.comment,
            role=args.role,
            knowledge_version=str(version),
        )
    except CmvcdsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    rewrite(path, args.id, updated)
    print(
        f"{args.id}: {record.status.value} → {updated.status.value} ({args.reviewer}, {args.date})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
