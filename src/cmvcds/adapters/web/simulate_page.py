"""The screening-simulation page: the form of ``cmvcds simulate`` and its report (issue 21).

A submitted form starts a job in this server's process (``jobs.Jobs``) and the browser is sent
to the job's page, which shows how far the run has got and reloads itself every
``POLL_SECONDS`` until the report is there (a plain ``<meta http-equiv=refresh>``: no script,
so it works wherever the page does). The report prints to PDF (``report.pdf``). A web run's size
is bounded (``LIMITS``); a region-sized run with PSA belongs to the CLI (``--workers``,
``--scheduler``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cmvcds.adapters.api.deps import ClinicDep
from cmvcds.adapters.api.service import NotAvailable
from cmvcds.adapters.report.simulation_html import number, percent, render_html, report_body
from cmvcds.adapters.web.i18n import gettext
from cmvcds.adapters.web.jobs import Job, Jobs
from cmvcds.adapters.web.render import render
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.simulation import SeroprevalenceTable
from cmvcds.simulation import simulate
from cmvcds.simulation.parameters import population
from cmvcds.simulation.strategies import STRATEGIES

__all__ = ["JOBS", "LIMITS", "POLL_SECONDS", "router"]

router = APIRouter(include_in_schema=False)

#: Largest values a web request may ask for (name → (default, maximum)).
LIMITS = {"n": (20_000, 50_000), "psa_draws": (20, 100), "psa_n": (2_000, 5_000), "seed": (1, 2**31 - 1)}
#: Seconds between two looks of a running job's page at its progress.
POLL_SECONDS = 1
#: This process's simulation jobs.
JOBS = Jobs()


def _page(knowledge: Knowledge, values: dict[str, str], chosen: list[str], errors: list[str] | None = None,
          job: Job | None = None, report: str | None = None, status: int = 200,
          unavailable: str | None = None) -> HTMLResponse:  # fmt: skip
    populations = knowledge.table("simulation_seroprevalence", SeroprevalenceTable).populations
    html = render("simulate.html", v=values, chosen=chosen, strategies=STRATEGIES, limits=LIMITS,
                  errors=errors or [], job=job, report=report, poll=POLL_SECONDS,
                  unavailable=unavailable, populations=populations, percent=percent)  # fmt: skip
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"} if job else None)


@router.get("/simulate", response_class=HTMLResponse)
def simulate_form(clinic: ClinicDep) -> HTMLResponse:
    return _page(clinic.knowledge, {k: str(d) for k, (d, _) in LIMITS.items()}, list(STRATEGIES))


@router.post("/simulate", response_model=None)
async def simulate_start(request: Request, clinic: ClinicDep) -> Response:
    """Check the form, start the run, and send the browser to its page (303)."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    chosen = [v for v in form.getlist("strategy") if isinstance(v, str)]
    chosen_population = values.get("population") or None
    try:
        numbers = {name: _bounded(values.get(name, ""), name) for name in LIMITS}
        if chosen_population is not None:
            population(clinic.knowledge, chosen_population)
    except InputError as error:
        return _page(clinic.knowledge, values, chosen, errors=[str(error)], status=422)
    knowledge = clinic.knowledge

    def work(progress: Any) -> Any:
        return simulate(
            strategies=chosen or ["first-trimester"], n=numbers["n"], seed=numbers["seed"],
            psa_draws=numbers["psa_draws"], psa_n=numbers["psa_n"], knowledge=knowledge, progress=progress,
            population=chosen_population,
        )  # fmt: skip

    job = JOBS.start({"values": values, "chosen": chosen}, work)
    return RedirectResponse(f"/simulate/jobs/{job.id}", status_code=303)


@router.get("/simulate/jobs/{job_id}", response_class=HTMLResponse)
def simulate_job(job_id: str, clinic: ClinicDep) -> HTMLResponse:
    """A run's page: its progress while it runs, then its report (or what to correct)."""
    job = _job(job_id)
    values, chosen = job.inputs["values"], job.inputs["chosen"]
    if not job.finished:
        return _page(clinic.knowledge, values, chosen, job=job)
    if job.error is not None:
        return _page(clinic.knowledge, values, chosen, errors=[job.error], status=422)
    return _page(clinic.knowledge, values, chosen, job=job, report=report_body(job.result, clinic.knowledge))


@router.get("/simulate/jobs/{job_id}/report.pdf", response_model=None)
def simulate_pdf(job_id: str, clinic: ClinicDep) -> Response:
    """The finished run's report printed to PDF by headless chromium."""
    from cmvcds.adapters.web.pages import html_to_pdf  # pages includes this router

    job = _job(job_id)
    if not job.finished or job.result is None:
        raise HTTPException(409, "the run has no report yet")
    knowledge = clinic.knowledge
    try:
        pdf = html_to_pdf(render_html(job.result, knowledge))
    except NotAvailable as error:
        return _page(clinic.knowledge, job.inputs["values"], job.inputs["chosen"], job=job,
                     report=report_body(job.result, knowledge), unavailable=str(error))  # fmt: skip
    headers = {"Content-Disposition": 'attachment; filename="cmvcds-simulation.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def _job(job_id: str) -> Job:
    job = JOBS.get(job_id)
    if job is None:
        raise HTTPException(404, "no such simulation run (runs are kept in memory until the server restarts)")
    return job


def _bounded(text: str, name: str) -> int:
    default, maximum = LIMITS[name]
    if not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(gettext("expected a whole number, got %(text)s") % {"text": repr(text)}, field=name) from None
    low = 1 if name in ("n", "psa_n") else 0
    if not low <= value <= maximum:
        message = gettext("must lie between %(low)s and %(high)s on this page (use the CLI for more)")
        raise InputError(message % {"low": low, "high": number(maximum)}, field=name)
    return value
