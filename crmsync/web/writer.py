"""Group commit for the inbox: one writer thread, many waiting requests, one fsync per batch.

A webhook may answer 200 only once its submission is on disk. Committing each post on its
own costs one fsync per request; here every request queues its submission and waits, and a
single thread stores whatever has queued up in one transaction, then wakes the waiters with
their result (or the error that made the batch fail, so each answers 503 and the sender retries).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future

from sqlalchemy.exc import SQLAlchemyError

from sync.store import InboxAdd, InboxSubmissionIn, Store, add_submissions

__all__ = ["InboxUnavailable", "InboxWriter"]

log = logging.getLogger(__name__)
_Item = tuple[InboxSubmissionIn, "Future[InboxAdd]"]


class InboxUnavailable(RuntimeError):
    """The inbox could not store a submission (database down, disk full): answer 503."""


class InboxWriter:
    """Stores submissions in batches from a dedicated thread; `submit` waits for the commit."""

    def __init__(self, store: Store, *, max_batch: int = 256) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="crmsync-inbox-writer", daemon=True)
        self._stopping = False
        self.batches = 0
        self.stored = 0

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Store what is queued, then end the thread."""
        self._stopping = True
        self._queue.put(None)
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    async def submit(self, item: InboxSubmissionIn) -> InboxAdd:
        """Queue one submission and wait until it is committed (or raise InboxUnavailable)."""
        if self._stopping or not self.alive:
            raise InboxUnavailable("the inbox is shutting down; retry shortly")
        future: Future[InboxAdd] = Future()
        self._queue.put((item, future))
        return await asyncio.wrap_future(future)

    def _take_batch(self, first: _Item) -> tuple[list[_Item], bool]:
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._take_batch(first)
            self._store(batch)
            if stop:
                return

    def _store(self, batch: list[_Item]) -> None:
        items = [item for item, _ in batch]
        try:
            try:
                with self.store.session() as session:
                    results = add_submissions(session, items)
            except SQLAlchemyError as exc:
                log.error("inbox: could not store %d submission(s): %s", len(batch), type(exc).__name__)
                error = InboxUnavailable(f"the inbox database is unavailable ({type(exc).__name__}); retry later")
                for _, future in batch:
                    future.set_exception(error)
                return
            self.batches += 1
            self.stored += sum(1 for r in results if r.new)
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
        finally:
            # An unexpected error ends the thread (and /health says so); nobody waits forever.
            for _, future in batch:
                if not future.done():
                    future.set_exception(InboxUnavailable("the inbox writer failed; retry later"))
