"""Bulk assessment (issue 20): a population's cases as NDJSON in, NDJSON assessments out.

``assess_bulk(source, sink, job)`` streams in constant memory on this process, a process pool or
a Dask cluster; ``assess_fhir_export(folder, sink, job)`` does the same for a FHIR Bulk Data
``$export`` folder, one patient per line; ``cmvcds assess-bulk`` is its command. Each output line is exactly what
``assess()`` gives for that case (``cmvcds-assessment/1``), or a ``cmvcds-bulk-error/1`` record.
"""

from cmvcds.adapters.bulk.run import assess_bulk, assess_fhir_export
from cmvcds.adapters.bulk.summary import Summary
from cmvcds.adapters.bulk.worker import ERROR_FORMAT, Job

__all__ = ["ERROR_FORMAT", "Job", "Summary", "assess_bulk", "assess_fhir_export"]
