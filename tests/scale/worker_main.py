"""A ``connector worker`` whose only handler is slow and logs what it saw, for kill tests.

Run as ``python -m tests.scale.worker_main LOGFILE DELAY`` with the usual environment.
"""

from __future__ import annotations

import os
import sys
import time

from connector.bootstrap import bootstrap
from connector.config import Config
from connector.jobs.celery_app import use_container
from connector.jobs.worker import run_worker

from .celery_helpers import KIND


def main() -> None:
    logfile, delay = sys.argv[1], float(sys.argv[2])

    def handler(container, events):
        with open(logfile, "a") as out:
            out.write("start " + " ".join(str(e.payload["n"]) for e in events) + "\n")
            out.flush()
            os.fsync(out.fileno())
        time.sleep(delay)
        return {e.id: None for e in events}

    config = Config.from_env()
    use_container(bootstrap(config, handlers={KIND: handler}))
    run_worker(config, concurrency=1, pool="threads", loglevel="WARNING")


if __name__ == "__main__":
    main()
