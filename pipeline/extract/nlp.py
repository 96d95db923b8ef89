"""spaCy, imported without torch. thinc (under spaCy) imports torch whenever it is installed, for
models regkb never runs (its pipelines are blank, with rule components): 2 to 5 s and some 300 MB in
every process that parses, the forkserver and each worker included. Importing spaCy through this
module hides torch from thinc while spaCy loads; torch stays importable afterwards for whoever needs
it (the reference embedder, REGKB_EMBEDDER=torch)."""

from __future__ import annotations

import sys


def _load():
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # an import of torch now fails as if it were not installed
    try:
        import spacy
        import spacy.lang.en  # noqa: F401 - the languages regkb builds pipelines for, while torch is hidden
        import spacy.lang.zh  # noqa: F401
    finally:
        if sys.modules.get("torch", ...) is None:
            del sys.modules["torch"]
    return spacy


spacy = _load()
