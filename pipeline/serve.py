"""Serve: the knowledge base in datasette, read-only. The file is opened immutable (datasette -i:
SQLite's immutable=1, no writes, no locks), with the metadata, templates and plugin committed in
datasette/ (facets, full-text search, canned queries, paragraph pages with their context)."""

from __future__ import annotations

import socket
from pathlib import Path

from .manifest import PROJECT_ROOT
from .models import RegkbError
from .query import connect_readonly

DATASETTE_DIR = PROJECT_ROOT / "datasette"
METADATA = DATASETTE_DIR / "metadata.yaml"
DATABASE_NAME = "regkb"  # the plugin publishes the file under this name, whatever it is called


def datasette_args(db_path: Path, host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    """Arguments of `datasette` (after the program name) serving db_path immutable on host:port."""
    return [
        "serve",
        "--immutable",
        str(db_path),
        "--metadata",
        str(METADATA),
        "--template-dir",
        str(DATASETTE_DIR / "templates"),
        "--plugins-dir",
        str(DATASETTE_DIR / "plugins"),
        "--host",
        host,
        "--port",
        str(port),
        # the matrices and the claims comparison join a few thousand rows: more than datasette's 1 s default;
        # the plugin holds every other query (arbitrary SQL, a table's _where) to 1 s
        # (datasette/plugins/regkb_ui.py, ARBITRARY_SQL_TIME_LIMIT_MS)
        "--setting",
        "sql_time_limit_ms",
        "5000",
    ]


def url(host: str, port: int) -> str:
    return f"http://{host}:{port}/{DATABASE_NAME}"


def run(db_path: Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve until interrupted. Port 0 picks a free port."""
    connect_readonly(db_path).close()  # a missing file or one that is not a knowledge base is refused here
    _check_host(host)
    port = port or free_port(host)
    _check_free(host, port)
    from datasette.cli import cli

    print(f"regkb: browse the knowledge base at {url(host, port)} (read-only; Ctrl-C stops)", flush=True)
    cli.main(datasette_args(db_path, host, port), prog_name="datasette", standalone_mode=False)


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _check_host(host: str) -> None:
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError, TypeError) as exc:  # TypeError: a name that cannot be IDNA-encoded
        raise RegkbError(f"cannot listen on {host!r}: not an address or host name this machine knows ({exc})") from exc


def _check_free(host: str, port: int) -> None:
    with socket.socket() as probe:
        # as uvicorn does: connections of a server that just stopped (TIME_WAIT) do not block the port
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise RegkbError(
                f"cannot listen on {host}:{port} ({exc.strerror}); give another --port, or --port 0 for a free one"
            ) from exc
