"""pydantic without plugin discovery, for the one-shot commands of the fast path (``argv``).

Why: at its first model class pydantic looks for plugins (``pydantic.plugin._loader``): it imports
``importlib.metadata`` (with ``email``, ``zipfile``, ``csv``: ~15-35 ms of CPU, 8 % of a cold
``cmvcds assess``) and reads the metadata of every installed distribution (~5-10 ms), only to find
none: cmvcds uses no pydantic plugin (issue 20, items 3 and 4). pydantic's documented switch,
``PYDANTIC_DISABLE_PLUGINS=__all__``, skips the reading but not the import; so when plugins are
off, ``get_plugins`` is answered by a module that gives what pydantic's own gives then - no
plugins - without importing anything. ``tests/test_cli_argv.py`` checks that pydantic still
imports only ``get_plugins`` from its loader, so an upgrade that changes this fails there.
"""

from __future__ import annotations

import os
import sys
import types

__all__ = ["LOADER", "without_plugins"]

#: pydantic's plugin loader, the module that imports ``importlib.metadata``.
LOADER = "pydantic.plugin._loader"

#: The values of ``PYDANTIC_DISABLE_PLUGINS`` for which pydantic's ``get_plugins`` returns ().
_ALL_OFF = ("__all__", "1", "true")


def without_plugins() -> None:
    """Turn pydantic's plugins off unless the user chose otherwise (``PYDANTIC_DISABLE_PLUGINS``
    set, even empty, is kept) and, when they are all off and pydantic has not loaded its loader
    yet, stand in for it."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if os.environ["PYDANTIC_DISABLE_PLUGINS"] in _ALL_OFF and LOADER not in sys.modules:
        loader = types.ModuleType(LOADER, "No pydantic plugins (cmvcds.adapters.cli.no_plugins).")
        loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
        sys.modules[LOADER] = loader


def _no_plugins() -> tuple[()]:
    return ()
