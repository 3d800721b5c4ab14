"""The in-process jobs behind the /simulate page's progress (adapters/web/jobs.py)."""

from __future__ import annotations

import threading

from cmvcds.adapters.web.jobs import Jobs
from cmvcds.errors import InputError


def _wait(jobs: Jobs, job_id: str) -> None:
    for _ in range(500):
        job = jobs.get(job_id)
        if job is not None and job.finished:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the job did not finish")


def test_a_job_reports_its_progress_and_keeps_its_result() -> None:
    jobs = Jobs()
    release = threading.Event()

    def work(report):  # type: ignore[no-untyped-def]
        report(1, 4)
        release.wait(5)
        report(4, 4)
        return "report"

    job = jobs.start({"n": 1}, work)
    for _ in range(500):
        if job.done == 1:
            break
        threading.Event().wait(0.01)
    assert (job.done, job.total, job.fraction, job.finished) == (1, 4, 0.25, False)
    release.set()
    _wait(jobs, job.id)
    assert (job.result, job.error, job.fraction) == ("report", None, 1.0)


def test_an_input_error_is_the_jobs_error_and_a_crash_is_said_so() -> None:
    jobs = Jobs()

    def refuse(report):  # type: ignore[no-untyped-def]
        raise InputError("must lie between 1 and 50,000", field="n")

    def crash(report):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError

    refused, crashed = jobs.start({}, refuse), jobs.start({}, crash)
    _wait(jobs, crashed.id)
    assert refused.finished and refused.result is None and "between 1 and 50,000" in (refused.error or "")
    assert crashed.error == "the run failed (ZeroDivisionError); see the server log"


def test_only_the_newest_jobs_are_kept_and_ids_are_not_guessable() -> None:
    jobs = Jobs(keep=2)
    started = [jobs.start({}, lambda report, i=i: i) for i in range(3)]
    _wait(jobs, started[-1].id)
    assert jobs.get(started[0].id) is None
    assert [jobs.get(j.id) for j in started[1:]] == started[1:]
    assert len({j.id for j in started}) == 3 and all(len(j.id) >= 16 for j in started)
