"""Small helpers the benchmarks share: percentiles, a table printer, a served app."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of ``samples`` (0 < q <= 100)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, int(round(q / 100 * len(ordered) + 0.5)))
    return ordered[min(rank, len(ordered)) - 1]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print("  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)))
    print(line)
    for row in cells[1:]:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


@contextmanager
def database(postgres_admin_url: str | None, tmp: str | Path, prefix: str = "bench"
             ) -> Iterator[str]:
    """A SQLite file in ``tmp``, or a fresh PostgreSQL database dropped afterwards."""
    if not postgres_admin_url:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{postgres_admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def served(app: Any, *, waitress: bool = False) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (a free port) in a thread; yields its base URL.
    ``waitress``: under waitress, as ``connector serve`` runs it, instead of Werkzeug."""
    if waitress:
        from connector.web.server import make_server as make_waitress

        server = make_waitress(app, host="127.0.0.1", port=0, threads=8, ack_threads=4,
                               connection_limit=100)
        run, port = server.run, server.effective_port

        def stop() -> None:
            server.close()
            server.task_dispatcher.shutdown()
    else:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        run, port, stop = server.serve_forever, server.server_port, server.shutdown
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop()
        thread.join(5)
