"""``python -m cmvcds`` is the ``cmvcds`` command."""

from cmvcds.adapters.cli.main import console

console()
