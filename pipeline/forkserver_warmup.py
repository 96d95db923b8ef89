"""Imported only by the build's forkserver (pipeline/pool.py): builds once what every worker
process needs, so the workers forked from the server inherit it instead of each building it."""

from .pool import die_with_parent

die_with_parent()  # first: the imports below take seconds, and the build may be killed meanwhile

from .document import parse_document  # noqa: E402,F401 - the import is the point: ingest, segment, extract
from .extract import pipeline  # noqa: E402

pipeline("en")
pipeline("zh")
