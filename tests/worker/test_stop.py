"""The worker process stops on SIGTERM even when the cancellation it sends is swallowed on the
way (arq's loop returned normally on it once, under load, and the worker started again)."""

import asyncio
import os
import signal
from typing import Any

import pytest

from worker import main


async def test_sigterm_stops_the_worker_even_if_its_loop_swallows_the_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[int] = []
    running = asyncio.Event()

    async def swallowing_run_once(_: Any) -> None:
        runs.append(1)
        running.set()
        if len(runs) > 1:
            await asyncio.sleep(3600)  # started again: the test's timeout cancels it
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return  # as arq's loop did: the stop request is lost here

    monkeypatch.setattr(main, "_run_once", swallowing_run_once)
    worker = asyncio.ensure_future(main.run(None))  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(running.wait(), 5)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(worker, 5)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        worker.cancel()
    assert runs == [1], "the worker started again after SIGTERM"
