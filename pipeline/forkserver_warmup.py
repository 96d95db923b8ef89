"""Imported only by the build's forkserver (pipeline/pool.py): builds once what every worker
process needs, so the workers forked from the server inherit it instead of each building it."""
from .build import parse_document  # noqa: F401 - the import is the point: ingest, segment, extract
from .extract import pipeline

pipeline("en")
pipeline("zh")
