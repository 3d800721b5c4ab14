"""Stream NDJSON cases in, NDJSON assessments out, in bounded chunks, on one of three executors.

- in this process (``workers=1``);
- a process pool on this machine (``workers=N``; the knowledge is loaded once per worker, by the
  pool initializer, or once in all when the workers are forked from this process: ``_start_method``);
- a Dask distributed cluster (``dask="tcp://scheduler:8786"``, or ``"local"`` for a
  ``LocalCluster`` of ``workers`` processes): the same chunks, the same function; each Dask worker
  loads the knowledge once, on its first chunk (``worker.prepare``). Workers of a remote cluster
  need cmvcds installed (same version) and the knowledge/settings paths readable.

Memory stays constant: at most ``2 × parallelism`` chunks are in flight, results are written in
input order as soon as the oldest chunk is done, and the summary keeps counts only, with the
case ids seen in a bounded table (``duplicates``: a later line with an id already assessed is
refused and said, on its line and in the summary).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, Protocol, TextIO

from cmvcds.adapters.bulk.fhir_export import FhirExport
from cmvcds.adapters.bulk.progress import Progress
from cmvcds.adapters.bulk.summary import Summary
from cmvcds.adapters.bulk.worker import Job, Outcome, TooLarge, assess_chunk, pinned, prepare
from cmvcds.domain.documents import DEFAULT_LIMITS

__all__ = ["assess_bulk", "assess_fhir_export", "chunks", "numbered"]

Chunk = list[tuple[int, bytes | TooLarge]]


class _Pending(Protocol):
    def result(self) -> list[Outcome]: ...


class _Done:
    """An in-process 'future': the chunk is assessed when its result is asked for."""

    def __init__(self, job: Job, chunk: Chunk) -> None:
        self.job, self.chunk = job, chunk

    def result(self) -> list[Outcome]:
        return assess_chunk(self.job, self.chunk)


def numbered(source: IO[bytes]) -> Iterator[tuple[int, bytes | TooLarge, int]]:
    """``(line number, line, its bytes)``, numbering from 1; blank lines are skipped (NDJSON
    allows them as separators) but still counted, so line numbers match the file. A line longer
    than a case may be is read past, not held: ``TooLarge`` with its size stands for it."""
    limit = DEFAULT_LIMITS.max_bytes
    number = 0
    while line := source.readline(limit + 3):  # room for the limit and a CRLF: one read
        number += 1
        if len(line) > limit + 2 or (len(line) > limit and not line.endswith(b"\n")):
            length = len(line)
            while not line.endswith(b"\n") and (line := source.readline(1 << 20)):
                length += len(line)
            size = length - (2 if line.endswith(b"\r\n") else 1 if line.endswith(b"\n") else 0)
            yield number, TooLarge(size), length
        elif line.strip():
            yield number, line.rstrip(b"\r\n"), len(line)


def chunks(
    lines: Iterable[tuple[int, bytes | TooLarge, int]], size: int
) -> Iterator[tuple[Chunk, int]]:
    """``(chunk of at most size lines, bytes read for it)``."""
    chunk: Chunk = []
    read = 0
    for number, line, length in lines:
        read += length
        chunk.append((number, line))
        if len(chunk) >= size:
            yield chunk, read
            chunk, read = [], 0
    if chunk:
        yield chunk, read


def assess_bulk(
    source: IO[bytes],
    sink: TextIO,
    job: Job,
    *,
    workers: int = 1,
    dask: str | None = None,
    chunk_size: int = 200,
    total_bytes: int | None = None,
    progress: TextIO | None = None,
) -> Summary:
    """Assess every line of ``source`` into ``sink`` (one JSON per line, input order) and return
    the summary. ``progress`` (e.g. ``sys.stderr``) receives a progress line with rate and ETA."""
    return _run(numbered(source), sink, job, workers, dask, chunk_size, total_bytes, progress)


def assess_fhir_export(
    folder: Path,
    sink: TextIO,
    job: Job,
    *,
    workers: int = 1,
    dask: str | None = None,
    chunk_size: int = 50,
    progress: TextIO | None = None,
) -> Summary:
    """Assess every patient of a FHIR Bulk Data export folder (``job.fhir_context`` says the
    clinical context): first the errors of lines that name no patient, then one assessment (or
    error record) per patient, in patient-id order."""
    if job.fhir_context is None:
        raise ValueError("a FHIR export needs job.fhir_context")
    export = FhirExport(folder)
    errors, patients = export.lines()
    summary = Summary()
    for outcome in errors:
        sink.write(outcome.text + "\n")
        summary.add(outcome)
    return _run(
        patients, sink, job, workers, dask, chunk_size, export.total_bytes, progress, summary
    )


def _run(
    lines: Iterable[tuple[int, bytes | TooLarge, int]],
    sink: TextIO,
    job: Job,
    workers: int,
    dask: str | None,
    chunk_size: int,
    total_bytes: int | None,
    progress: TextIO | None,
    summary: Summary | None = None,
) -> Summary:
    summary = summary or Summary()
    job = pinned(job)
    meter = Progress(progress, total_bytes)
    with ExitStack() as stack:
        submit, parallelism = _executor(stack, job, workers, dask)
        window: deque[tuple[_Pending, int]] = deque()
        done_bytes = 0

        def drain_one() -> None:
            nonlocal done_bytes
            pending, size = window.popleft()
            for result in pending.result():
                outcome = summary.checked(result)  # a case id seen before: refused, said
                sink.write(outcome.text + "\n")
                summary.add(outcome)
            done_bytes += size
            meter.update(summary.assessed + summary.errors, done_bytes)

        for chunk, size in chunks(lines, chunk_size):
            window.append((submit(chunk), size))
            if len(window) >= 2 * parallelism:
                drain_one()
        while window:
            drain_one()
    meter.update(summary.assessed + summary.errors, done_bytes, final=True)
    return summary


def _executor(
    stack: ExitStack, job: Job, workers: int, dask: str | None
) -> tuple[Callable[[Chunk], _Pending], int]:
    if dask is not None:
        return _dask(stack, job, workers, dask)
    if workers <= 1:
        prepare(job)  # a wrong knowledge or settings path fails here, before any output
        return (lambda chunk: _Done(job, chunk)), 1
    pool = stack.enter_context(
        ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_start_method(job),
            initializer=_worker_start,
            initargs=(job,),
        )
    )
    return (lambda chunk: pool.submit(assess_chunk, job, chunk)), workers


def _worker_start(job: Job) -> None:
    """A pool worker: ends with its parent (Linux ``PR_SET_PDEATHSIG``: a run killed with
    SIGKILL would otherwise leave its workers, each holding a loaded pack, running as orphans),
    then loads the job's knowledge and settings once."""
    if sys.platform.startswith("linux"):
        import ctypes

        set_parent_death_signal = 1  # PR_SET_PDEATHSIG, <linux/prctl.h>
        ctypes.CDLL(None, use_errno=True).prctl(set_parent_death_signal, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before the call: nobody to wait for
            os._exit(1)
    prepare(job)


def _start_method(job: Job) -> multiprocessing.context.BaseContext:
    """``fork`` from a single-threaded process, after loading the knowledge here once, so that
    workers start at once with the pack already validated (copy-on-write); ``spawn`` otherwise
    (forking a threaded process can deadlock), each worker then loading it in ``prepare``."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        prepare(job)
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _dask(
    stack: ExitStack, job: Job, workers: int, address: str
) -> tuple[Callable[[Chunk], _Pending], int]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the install
        from cmvcds.errors import InputError

        raise InputError(
            "--dask needs Dask distributed: pip install 'cmvcds[bulk]'", field="--dask"
        ) from None
    if address == "local":
        cluster: Any = stack.enter_context(
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=max(workers, 1),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
        )
        client = stack.enter_context(Client(cluster))  # type: ignore[no-untyped-call]
    else:
        client = stack.enter_context(Client(address))  # type: ignore[no-untyped-call]
    parallelism = max(sum(client.nthreads().values()), 1)
    return (lambda chunk: client.submit(assess_chunk, job, chunk, pure=False)), parallelism
