"""Real concurrency for tests: functions released together by a barrier, each in its own
thread with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import close_old_connections, connection


def race(functions: list[Callable[[], object]], *, timeout: float = 60) -> list[object]:
    """Run the functions at the same moment; return each one's result or exception."""
    barrier = threading.Barrier(len(functions))
    outcomes: list[object] = [None] * len(functions)

    def run(index: int, function: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = function()
        except Exception as error:  # the outcome is what the test checks
            outcomes[index] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes
