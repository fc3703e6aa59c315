"""One batching engine for every stage of the audit pipeline, with no silent loss.

The OpenTelemetry SDK's batch processors drop records once their queue is full. An audit trail
must not, so :class:`BatchWorker` differs in three ways:

* **Back-pressure instead of loss.** ``put`` on a full queue waits for room. It waits forever by
  default; with a block timeout it gives up after that long, and the record is *counted* as
  dropped (reason ``queue_full``) and logged.
* **Retry instead of discard.** A failing export is retried with capped exponential backoff
  until it succeeds or shutdown's deadline passes; the batch stays in memory meanwhile and the
  queue fills, so the callers feel the outage instead of the audit log losing it.
* **Isolation of bad records.** An export that raises :class:`RecordsRejected` (data the store
  will never accept) is bisected so that only the offending records are dropped, counted with
  reason ``rejected``; the rest of the batch is stored.

Every drop goes through :class:`~otel_audit.stats.PipelineStats`. Flush and shutdown take a
:class:`~otel_audit.deadline.Deadline`, shared with the other stages of the pipeline.

:class:`QueuePolicy` is the queueing configuration every stage shares, resolved once by
``configure()`` (argument > ``OTEL_AUDIT_*`` > ``OTEL_BLRP_*`` > default).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from otel_audit import envvars
from otel_audit.deadline import Deadline
from otel_audit.errors import ConfigError
from otel_audit.stats import PipelineStats, pipeline_stats

__all__ = ["BatchWorker", "QueuePolicy", "RecordsRejected"]

T = TypeVar("T")
_logger = logging.getLogger(__name__)

_RETRY_INITIAL_S = 0.05
_RETRY_MAX_S = 5.0
_SHUTDOWN_GRACE_S = 0.1
"""How long shutdown waits, past its deadline, for the worker to notice it and stop."""
_SHUTDOWN_DEFAULT_S = 30.0


class RecordsRejected(Exception):  # noqa: N818 - it names what happened to the records
    """Raised by an insert function when the store will never accept (some of) the batch.

    Args:
        message: why, for the log.
        code, name: the engine's error code and name when the engine refused the data
            (see :class:`~otel_audit.errors.StoreError`); ``None`` when the records could not
            even be mapped to the table's columns.
    """

    def __init__(self, message: str = "", *, code: int | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.name = name


@dataclass(frozen=True)
class QueuePolicy:
    """How every queue of the audit pipeline behaves (see ``docs/configuration.md``).

    Args:
        max_queue_size: capacity of each queue.
        max_export_batch_size: most records per export call (one INSERT).
        schedule_delay_millis: longest wait for a batch to fill.
        block_timeout_millis: longest wait for room in a full queue; ``None`` waits forever.

    Raises:
        ConfigError: a size below 1, or a negative delay or block timeout.
    """

    max_queue_size: int = envvars.OTEL_AUDIT_QUEUE_SIZE.default
    max_export_batch_size: int = envvars.OTEL_AUDIT_EXPORT_BATCH_SIZE.default
    schedule_delay_millis: float = envvars.OTEL_AUDIT_SCHEDULE_DELAY_MS.default
    block_timeout_millis: float | None = None

    def __post_init__(self) -> None:
        if self.max_queue_size < 1 or self.max_export_batch_size < 1:
            raise ConfigError(
                f"queue and batch sizes must be at least 1, not {self.max_queue_size} and {self.max_export_batch_size}"
            )
        if self.schedule_delay_millis < 0:
            raise ConfigError(f"schedule_delay_millis must not be negative, not {self.schedule_delay_millis}")
        if self.block_timeout_millis is not None and self.block_timeout_millis < 0:
            raise ConfigError(f"block_timeout_millis must not be negative, not {self.block_timeout_millis}")

    @classmethod
    def resolve(
        cls,
        *,
        queue_size: int | None = None,
        block_timeout_ms: float | None = None,
        export_batch_size: int | None = None,
        schedule_delay_ms: float | None = None,
    ) -> QueuePolicy:
        """The policy from ``configure()``'s arguments, else ``OTEL_AUDIT_*``, else ``OTEL_BLRP_*``, else defaults.

        Raises:
            ConfigError: an argument is out of range (``export_batch_size=0`` is an error, not "default").
        """
        block = envvars.OTEL_AUDIT_BLOCK_TIMEOUT_MS.resolve(block_timeout_ms)
        return cls(
            max_queue_size=envvars.OTEL_AUDIT_QUEUE_SIZE.resolve(queue_size),
            max_export_batch_size=envvars.OTEL_AUDIT_EXPORT_BATCH_SIZE.resolve(export_batch_size),
            schedule_delay_millis=envvars.OTEL_AUDIT_SCHEDULE_DELAY_MS.resolve(schedule_delay_ms),
            block_timeout_millis=None if block < 0 else block,
        )

    @property
    def block_timeout_s(self) -> float | None:
        """:attr:`block_timeout_millis` in seconds (``None``: wait forever)."""
        return None if self.block_timeout_millis is None else self.block_timeout_millis / 1000


class BatchWorker(Generic[T]):
    """A bounded queue drained in batches by a named daemon thread.

    Args:
        name: thread name and the key of this queue in the stats.
        export: called with each batch on the worker thread; raises on failure.
        signal: the counter namespace (``logs``, ``spans``, ``predictions``).
        max_queue_size: capacity; ``put`` waits when it is reached.
        max_batch_size: most items handed to *export* at once.
        schedule_delay_s: longest wait for a batch to fill.
        block_timeout_s: longest wait in ``put``; ``None`` waits for as long as it takes.

    :attr:`puts` counts calls to :meth:`put`. The export side reads it to tell whether producers
    are still at work; increments racing in two threads may count once, which that check allows.
    """

    def __init__(
        self,
        name: str,
        export: Callable[[Sequence[T]], None],
        *,
        signal: str,
        max_queue_size: int,
        max_batch_size: int,
        schedule_delay_s: float,
        block_timeout_s: float | None = None,
        stats: PipelineStats = pipeline_stats,
    ) -> None:
        if max_queue_size < 1 or max_batch_size < 1:
            raise ValueError("max_queue_size and max_batch_size must be at least 1")
        if schedule_delay_s < 0:
            raise ValueError("schedule_delay_s must not be negative")
        self._name = name
        self._export = export
        self._signal = signal
        self._max_queue = max_queue_size
        self._max_batch = min(max_batch_size, max_queue_size)
        self._delay = schedule_delay_s
        self._block_timeout = block_timeout_s
        self._stats = stats
        self._queue: deque[T] = deque()
        self.puts: int = 0
        self._room = threading.Condition(threading.Lock())
        self._wake = threading.Event()
        self._idle = threading.Condition(threading.Lock())
        self._inflight = 0
        self._shutdown = False
        self._deadline: Deadline | None = None
        self._stop_retry = threading.Event()
        self._thread = self._start()
        stats.register_queue(name, self.depth)
        # The worker thread does not survive fork(); the child gets a fresh, empty one.
        if hasattr(os, "register_at_fork"):
            ref = weakref.WeakMethod(self._after_fork)
            os.register_at_fork(after_in_child=lambda: (m := ref()) and m())

    # -- producer side --------------------------------------------------------------------
    def put(self, item: T) -> bool:
        """Queue *item*; wait while the queue is full. Return ``False`` if it was dropped."""
        queue = self._queue
        self.puts += 1
        if self._shutdown:
            self._stats.drop(self._signal, "after_shutdown", 1)
            return False
        if len(queue) < self._max_queue:
            queue.append(item)
            if len(queue) >= self._max_batch and not self._wake.is_set():
                self._wake.set()  # once: a queue that stays full is common while the worker defers
            return True
        return self._put_slow(item)

    def _put_slow(self, item: T) -> bool:
        self._wake.set()
        deadline = Deadline(self._block_timeout)
        with self._room:
            while len(self._queue) >= self._max_queue and not self._shutdown:
                remaining = deadline.remaining()
                if remaining is not None and remaining <= 0:
                    self._stats.drop(self._signal, "queue_full", 1, f"queue {self._name} full")
                    return False
                self._stats.add(self._signal, "blocked_waits")
                self._room.wait(remaining if remaining is not None else 1.0)
            if self._shutdown:
                self._stats.drop(self._signal, "after_shutdown", 1)
                return False
            self._queue.append(item)
        return True

    def depth(self) -> int:
        """Items waiting, not counting a batch being exported."""
        return len(self._queue)

    # -- lifecycle ------------------------------------------------------------------------
    def force_flush(self, deadline: Deadline | None = None) -> bool:
        """Wait until everything queued so far is exported; ``False`` if *deadline* passed first."""
        deadline = deadline or Deadline(None)
        with self._idle:
            while self._queue or self._inflight:
                self._wake.set()
                remaining = deadline.remaining()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(0.05 if remaining is None else min(remaining, 0.05))
        return True

    def shutdown(self, deadline: Deadline | None = None) -> None:
        """Export what is queued before *deadline* (default 30 s), count the rest as dropped, stop the thread."""
        if self._shutdown:
            return
        deadline = deadline or Deadline(_SHUTDOWN_DEFAULT_S)
        self._deadline = deadline
        self._shutdown = True
        self._wake.set()
        with self._room:
            self._room.notify_all()
        self._thread.join(deadline.remaining())
        self._stop_retry.set()
        self._thread.join(_SHUTDOWN_GRACE_S)
        with self._idle:  # the worker takes batches under this lock: nothing is counted twice
            left = len(self._queue)
            self._queue.clear()
        if left:
            self._stats.drop(self._signal, "shutdown", left, f"queue {self._name} not drained in time")
        self._stats.unregister_queue(self._name)

    # -- worker side ----------------------------------------------------------------------
    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        thread.start()
        return thread

    def _after_fork(self) -> None:
        self._queue = deque()
        self._room = threading.Condition(threading.Lock())
        self._idle = threading.Condition(threading.Lock())
        self._wake = threading.Event()
        self._stop_retry = threading.Event()
        self._inflight = 0
        if not self._shutdown:
            self._thread = self._start()

    def _run(self) -> None:
        queue = self._queue
        while True:
            if not queue and not self._shutdown:
                self._wake.wait(self._delay)
                self._wake.clear()
            elif len(queue) < self._max_batch and not self._shutdown and self._delay and self._wake.wait(self._delay):
                # A partial batch waited for the schedule delay, or for a flush.
                self._wake.clear()
            self._drain()
            if self._shutdown and not queue:
                break
            if self._past_deadline():
                break
            queue = self._queue

    def _past_deadline(self) -> bool:
        return self._shutdown and self._deadline is not None and self._deadline.expired

    def _drain(self) -> None:
        queue = self._queue
        while queue:
            batch: list[T] = []
            with self._idle:
                take = min(len(queue), self._max_batch)
                popleft = queue.popleft
                batch = [popleft() for _ in range(take)]
                self._inflight = len(batch)
            with self._room:
                self._room.notify_all()
            self._export_reliably(batch)
            with self._idle:
                self._inflight = 0
                self._idle.notify_all()
            if self._past_deadline():
                return

    def _export_reliably(self, batch: list[T]) -> None:
        backoff = _RETRY_INITIAL_S
        while True:
            try:
                self._export(batch)
            except RecordsRejected as rejected:
                self._bisect(batch, rejected)
                return
            except Exception as error:  # noqa: BLE001 - any store failure is retried
                self._stats.add(self._signal, "export_failures")
                if self._past_deadline():
                    self._stats.drop(self._signal, "shutdown", len(batch), f"store failing: {error}")
                    return
                _logger.warning(
                    "otel-audit %s: export of %d record(s) failed, retrying in %.2fs: %s",
                    self._name,
                    len(batch),
                    backoff,
                    error,
                )
                self._stats.add(self._signal, "export_retries")
                if self._stop_retry.wait(backoff):
                    self._stats.drop(self._signal, "shutdown", len(batch), f"store failing: {error}")
                    return
                backoff = min(backoff * 2, _RETRY_MAX_S)
                continue
            self._stats.add(self._signal, "exported", len(batch))
            return

    def _bisect(self, batch: list[T], rejected: RecordsRejected) -> None:
        if len(batch) == 1:
            self._stats.drop(self._signal, "rejected", 1, str(rejected))
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            self._export_reliably(half)
