"""Long web requests run as jobs in this server's process: started, then polled by their page.

A job runs on one background thread (``Jobs`` runs one at a time; later ones wait their turn), is
told its progress as (done, total), and keeps its result or its input error. Its id is a random
token (the page's address), and only the newest ``keep`` jobs are kept, so memory stays bounded.
Jobs live as long as the process: a restarted server answers their pages with "no such job".
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cmvcds.errors import InputError

__all__ = ["Job", "Jobs"]

LOG = logging.getLogger(__name__)

#: Called with (done, total) as the work advances.
Report = Callable[[int, int], None]


@dataclass
class Job:
    """One run: its inputs (to show again), progress, and result or error."""

    id: str
    inputs: dict[str, Any]
    done: int = 0
    total: int = 0
    result: Any = None
    error: str | None = None
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def progress(self, done: int, total: int) -> None:
        with self.lock:
            self.done, self.total = done, total

    @property
    def fraction(self) -> float:
        """How much is done, 0 to 1 (0 until the work has reported)."""
        with self.lock:
            return 1.0 if self.finished else (self.done / self.total if self.total else 0.0)


@dataclass
class Jobs:
    """The jobs of this process (the newest ``keep``), run one at a time in submission order."""

    keep: int = 20
    _jobs: OrderedDict[str, Job] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "cmvcds-job"))

    def start(self, inputs: dict[str, Any], work: Callable[[Report], Any]) -> Job:
        """A new job running ``work(report)``; an ``InputError`` it raises becomes its error."""
        job = Job(secrets.token_urlsafe(12), inputs)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    @staticmethod
    def _run(job: Job, work: Callable[[Report], Any]) -> None:
        try:
            job.result = work(job.progress)
        except InputError as error:
            job.error = str(error)
        except Exception as error:  # the page shows it instead of polling forever
            LOG.exception("job %s failed", job.id)
            job.error = f"the run failed ({type(error).__name__}); see the server log"
        finally:
            job.finished = True
