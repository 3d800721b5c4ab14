"""The review workflow: transitions, history, the tool that records them in the pack, and the
weakest status of what an answer used shown as the answer's review status."""

from __future__ import annotations

import importlib.util
import shutil
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from cmvcds.engine.answers import AnswerEngine, apply_review
from cmvcds.errors import InputError
from cmvcds.knowledge import DEFAULT_PACK, load_knowledge
from cmvcds.knowledge.schemas.answers import ReviewAction, ReviewRecord, ReviewStatus

TOOL = Path(__file__).resolve().parents[2] / "tools" / "review_answers.py"
DAY = date(2026, 11, 21)


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("review_answers", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_submit_approve_return_cycle_keeps_the_history() -> None:
    record = ReviewRecord()
    record = apply_review(record, ReviewAction.SUBMIT, "A. Author", DAY)
    assert record.status is ReviewStatus.UNDER_REVIEW and record.reviewer is None
    record = apply_review(record, ReviewAction.APPROVE, "Dr Rossi", DAY)
    assert (record.status, record.reviewer, record.date) == (ReviewStatus.APPROVED, "Dr Rossi", DAY)
    record = apply_review(
        record, ReviewAction.RETURN, "Dr Bianchi", date(2026, 11, 22), "cite the 2024 update"
    )
    assert record.status is ReviewStatus.DRAFT and record.reviewer is None
    assert [(e.action, e.by) for e in record.history] == [
        (ReviewAction.SUBMIT, "A. Author"),
        (ReviewAction.APPROVE, "Dr Rossi"),
        (ReviewAction.RETURN, "Dr Bianchi"),
    ]
    assert record.history[-1].comment == "cite the 2024 update"


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (ReviewStatus.DRAFT, ReviewAction.APPROVE),
        (ReviewStatus.DRAFT, ReviewAction.RETURN),
        (ReviewStatus.UNDER_REVIEW, ReviewAction.SUBMIT),
    ],
)
def test_a_transition_that_does_not_exist_is_refused(
    status: ReviewStatus, action: ReviewAction
) -> None:
    record = ReviewRecord(status=status)
    with pytest.raises(InputError, match=f"cannot {action.value}"):
        apply_review(record, action, "Dr Rossi", DAY, "comment")


def test_return_needs_a_comment_and_approval_a_reviewer() -> None:
    under = ReviewRecord(status=ReviewStatus.UNDER_REVIEW)
    with pytest.raises(InputError, match="comment"):
        apply_review(under, ReviewAction.RETURN, "Dr Rossi", DAY)
    with pytest.raises(InputError, match="reviewer"):
        apply_review(under, ReviewAction.APPROVE, "  ", DAY)
    with pytest.raises(ValueError, match="approved statement names its reviewer"):
        ReviewRecord(status=ReviewStatus.APPROVED)


def test_the_tool_records_the_review_in_the_pack_and_answers_show_the_weakest(
    tmp_path: Path,
) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    question = "Can maribavir be given together with valganciclovir?"
    before = AnswerEngine(load_knowledge(pack)).ask(question)
    assert before["review"]["status"] == "draft"
    used = [s["id"] for section in before["sections"] for s in section["statements"]]
    review = tool()
    text_before = (pack / "answers" / "statements.yaml").read_text(encoding="utf-8")
    statements = [u for u in used if ":" not in u]
    templates = sorted({u.split(":")[0] for u in used if ":" in u})
    for item in statements + templates:
        assert (
            review.main(
                [
                    "--pack",
                    str(pack),
                    "submit",
                    item,
                    "--reviewer",
                    "A. Author",
                    "--date",
                    "2026-11-20",
                ]
            )
            == 0
        )
    # One approved, the others still under review: the answer shows the weakest.
    first, *rest = statements + templates
    assert (
        review.main(
            [
                "--pack",
                str(pack),
                "approve",
                first,
                "--reviewer",
                "Dr Rossi",
                "--role",
                "infectious-disease physician",
                "--date",
                "2026-11-21",
            ]
        )
        == 0
    )
    middle = AnswerEngine(load_knowledge(pack)).ask(question)
    assert middle["review"]["status"] == "under_review"
    assert middle["review"]["reviewed_by"] is None
    # The approved part is shown as approved (who, role, when, knowledge version); what is still
    # pending is said once for the answer, with the seed's steps.
    shown = {s["id"]: s for sec in middle["sections"] for s in sec["statements"]}
    marked = {i: s["approved"] for i, s in shown.items() if "approved" in s}
    version = load_knowledge(pack).version
    assert marked == {
        first: {
            "by": "Dr Rossi",
            "role": "infectious-disease physician",
            "on": "2026-11-21",
            "knowledge_version": version,
        }
    }
    assert sorted(middle["review"]["pending"]) == sorted(i for i in shown if i != first)
    assert [st["done"] for st in middle["review"]["steps"]] == [True, True, False]
    pending_notices = [n for n in middle["notices"] if "Review status" in n]
    assert len(pending_notices) == 1
    assert (
        f"{len(middle['review']['pending'])} of its {len(shown)} statements" in pending_notices[0]
    )
    for item in rest:
        assert (
            review.main(
                [
                    "--pack",
                    str(pack),
                    "approve",
                    item,
                    "--reviewer",
                    "Dr Rossi",
                    "--date",
                    "2026-11-21",
                ]
            )
            == 0
        )
    after = AnswerEngine(load_knowledge(pack)).ask(question)
    assert after["review"] == {
        "status": "approved",
        "reviewed_by": "Dr Rossi",
        "reviewed_on": "2026-11-21",
        "counts": {"draft": 0, "under_review": 0, "approved": len(used)},
        "steps": [
            {"step": "submitted", "done": True},
            {"step": "under_review", "done": True},
            {"step": "approved", "done": True},
        ],
        "pending": [],
    }
    assert not any("Review status" in n for n in after["notices"])
    # Comments and layout of the file survive; only review lines changed.
    text_after = (pack / "answers" / "statements.yaml").read_text(encoding="utf-8")
    changed = [
        (a, b)
        for a, b in zip(text_before.splitlines(), text_after.splitlines(), strict=True)
        if a != b
    ]
    assert changed and all(b.strip().startswith("review: {") for _, b in changed)
    entry = next(e for e in yaml.safe_load(text_after)["statements"] if e["id"] == first)
    assert [h["action"] for h in entry["review"]["history"]] == ["submit", "approve"]


def test_the_tool_refuses_an_impossible_transition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    code = tool().main(
        ["--pack", str(pack), "approve", "refractory-definition", "--reviewer", "Dr Rossi"]
    )
    assert code == 2
    assert "cannot approve a statement that is draft" in capsys.readouterr().err
