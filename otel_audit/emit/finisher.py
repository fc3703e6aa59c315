"""The export-thread half of every prediction: encode, hash, build attributes, end the span, emit.

The caller's thread only starts a :class:`~otel_audit.emit.prediction.Prediction`'s span, takes two
timestamps and queues it (:meth:`PredictionFinisher.submit`). The finisher's own thread then
turns each queued prediction into its finished span and its one ``ai.prediction`` log record:
input and output are normalized and the input hashed (``docs/input-hash.md``), the attributes of
``docs/conventions.md`` set, the span ended, and the record emitted with the span's trace and
span ids. A prediction that cannot be finished is logged and counted, never raised.

The finisher defers to a busy application. Under the GIL, a thread that always has work takes
half of every busy caller's time slices. So while predictions keep arriving and the one just
finished waited less than ``_DEFER_NS``, the finisher hands the GIL back after each record by
sleeping ``_YIELD_S`` (not ``sleep(0)``: a thread still on its CPU would often take the GIL straight
back on a loaded machine): it then runs when the application waits (I/O, native code, a full
queue, ``flush``) and at least once per switch interval. A queue that falls further behind than that
is drained as before, so a record waits at most about ``_DEFER_NS`` longer than it used to.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry._logs import Logger, LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.trace import Status, StatusCode, set_span_in_context

from otel_audit import semconv
from otel_audit.deadline import Deadline
from otel_audit.emit.hashing import Encoded, canonical_json, encode
from otel_audit.emit.prediction import CallInput, Prediction, error_type, label_of, new_request_id
from otel_audit.export.batching import BatchWorker, QueuePolicy
from otel_audit.export.rows import attach_body_json
from otel_audit.stats import pipeline_stats

__all__ = ["PredictionFinisher", "encode_prediction"]

_logger = logging.getLogger(__name__)

_FINISH_BATCH = 512
_FINISH_DELAY_S = 0.05
_ALLOWED_ATTRIBUTE_TYPES = (str, bool, int, float)
_NO_SPAN = Context()
_UID_BYTES = 16
_DEFER_NS = 1_000_000_000
_YIELD_S = 50e-6


def encode_prediction(prediction: Prediction) -> tuple[Encoded, Encoded]:
    """Return the encoded input and output of *prediction*; never raises."""
    try:
        raw = prediction.input
        if isinstance(raw, CallInput):
            raw = raw.resolve()
        encoded_input = encode(raw)
    except Exception as error:  # noqa: BLE001 - an odd input must not cost the record
        pipeline_stats.add("predictions", "encode_errors")
        encoded_input = encode({"$unencodable": f"{type(error).__name__}: {error}"})
    try:
        encoded_output = encode(prediction.output)
    except Exception as error:  # noqa: BLE001
        pipeline_stats.add("predictions", "encode_errors")
        encoded_output = encode({"$unencodable": f"{type(error).__name__}: {error}"})
    return encoded_input, encoded_output


def _extra_attributes(attributes: Mapping[str, Any] | None, into: dict[str, Any]) -> None:
    if not attributes:
        return
    try:
        items = list(attributes.items())
    except Exception:  # noqa: BLE001 - odd extra attributes must not cost the record
        pipeline_stats.add("predictions", "attribute_errors")
        return
    for key, value in items:
        if key in into or key == semconv.LOG_RECORD_UID:
            continue  # never let an extra attribute overwrite an audit fact or the record's identity
        if isinstance(value, _ALLOWED_ATTRIBUTE_TYPES):
            into[str(key)] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            into[str(key)] = tuple(value)  # string arrays (per-row batch hashes) stay arrays
        else:
            try:
                into[str(key)] = str(value)
            except Exception as error:  # noqa: BLE001
                pipeline_stats.add("predictions", "attribute_errors")
                into[str(key)] = f"$unencodable: {error_type(error)}"


class PredictionFinisher:
    """A queue of finished predictions and the thread that turns each into its span and log record.

    Args:
        logger: the OpenTelemetry logger the ``ai.prediction`` records are emitted on.
        policy: capacity and block timeout of the queue (see ``docs/configuration.md``).
        cache_body_json: attach the record body's canonical JSON text for the ClickHouse
            exporter (true only when no log processor runs between here and the exporters).
    """

    def __init__(self, logger: Logger, policy: QueuePolicy, *, cache_body_json: bool = True) -> None:
        self._logger = logger
        self._cache_body_json = cache_body_json
        self._worker: BatchWorker[Prediction] = BatchWorker(
            "otel-audit-predictions",
            self._finish_batch,
            signal="predictions",
            max_queue_size=policy.max_queue_size,
            max_batch_size=_FINISH_BATCH,
            schedule_delay_s=_FINISH_DELAY_S,
            block_timeout_s=policy.block_timeout_s,
        )

    def submit(self, prediction: Prediction) -> None:
        """Queue a finished prediction; waits if the queue is full (see :class:`BatchWorker`)."""
        if self._worker.put(prediction):
            return
        # Dropped after the block timeout: the span still has to end.
        span = prediction.span
        if span is not None:
            span.end(end_time=prediction.end_ns)

    def flush(self, deadline: Deadline) -> bool:
        """Wait until every queued prediction is emitted; ``False`` if *deadline* passed first."""
        return self._worker.force_flush(deadline)

    def shutdown(self, deadline: Deadline) -> None:
        """Emit what is queued before *deadline*; the rest is counted as dropped."""
        self._worker.shutdown(deadline)

    # -- the finisher's thread ------------------------------------------------------------
    def _finish_batch(self, batch: Sequence[Prediction]) -> None:
        # One read of the OS's randomness per batch: os.urandom releases the GIL, and a thread
        # that gives the GIL up once per record waits a switch interval to get it back whenever
        # the caller's thread is busy (measured: a fifth of the export side's time).
        uids = os.urandom(_UID_BYTES * len(batch)).hex()
        worker = self._worker
        puts = worker.puts
        for index, prediction in enumerate(batch):
            try:
                self.finish(prediction, uids[2 * _UID_BYTES * index : 2 * _UID_BYTES * (index + 1)])
            except Exception:
                _logger.exception("otel-audit could not finish a prediction record")
                pipeline_stats.drop("predictions", "finish_error", 1)
            if worker.puts != puts:  # the application is still predicting: defer to it (module docstring)
                puts = worker.puts
                if time.time_ns() - prediction.end_ns < _DEFER_NS:
                    time.sleep(_YIELD_S)

    def finish(self, p: Prediction, uid: str | None = None) -> None:
        """Build *p*'s attributes, end its span and emit its ``ai.prediction`` log record.

        *uid* is the record's ``log.record.uid`` (32 random hex digits; drawn here if not given).
        """
        encoded_input, encoded_output = p.encoded or encode_prediction(p)
        error = p.error
        latency_ms = p.latency_ms if p.latency_ms is not None else (p.end_ns - p.start_ns) / 1e6
        attributes: dict[str, Any] = {
            semconv.GEN_AI_REQUEST_MODEL: p.model,
            semconv.ML_MODEL_VERSION: p.version,
            semconv.GEN_AI_OPERATION_NAME: p.operation,
            semconv.AUDIT_INPUT_HASH: encoded_input.sha256,
            semconv.AUDIT_REQUEST_ID: p._request_id or new_request_id(),  # noqa: SLF001
            semconv.AUDIT_OUTCOME: semconv.OUTCOME_ERROR if error is not None else semconv.OUTCOME_OK,
            semconv.AUDIT_LATENCY_MS: latency_ms,
            semconv.AUDIT_BATCH_SIZE: p.batch_size,
            semconv.AUDIT_SCHEMA_VERSION: semconv.SCHEMA_VERSION,
        }
        if p.pipeline_version:
            attributes[semconv.ML_PIPELINE_VERSION] = p.pipeline_version
        if p.user_id is not None:
            attributes[semconv.USER_ID] = str(p.user_id)
        if p.extractor_errors:
            attributes[semconv.AUDIT_EXTRACTOR_ERROR] = tuple(p.extractor_errors)
        body: dict[str, Any] = {semconv.BODY_INPUT: encoded_input.value, semconv.BODY_OUTPUT: encoded_output.value}
        error_text = ""
        if error is not None:
            kind = error_type(error)
            message = str(error)
            attributes[semconv.ERROR_TYPE] = kind
            attributes[semconv.ERROR_MESSAGE] = message
            body[semconv.BODY_ERROR] = {"type": kind, "message": message}
            error_text = f'"{semconv.BODY_ERROR}":{canonical_json(body[semconv.BODY_ERROR])[1]},'
        _extra_attributes(p.scope_attributes, attributes)
        _extra_attributes(p.attributes, attributes)

        span = p.span
        if span is not None:
            span.set_attributes(attributes)
            if error is not None:
                span.record_exception(error, timestamp=p.end_ns)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end(end_time=p.end_ns)
        # The label is content derived from the output: the log record carries it (where it is
        # redacted, sealed by hash and erasable like the output), the span does not.
        label = p.label if p.label is not None else (label_of(p.output) if error is None else "")
        if label:
            attributes[semconv.AUDIT_OUTPUT_LABEL] = str(label)
        # The record's own identity, made once here so a retried export keeps it; spans have their ids.
        attributes[semconv.LOG_RECORD_UID] = uid or os.urandom(_UID_BYTES).hex()
        record = LogRecord(
            timestamp=p.start_ns,
            observed_timestamp=p.end_ns,
            # The span's context, not the export thread's: this is what correlates the two.
            context=set_span_in_context(span) if span is not None else _NO_SPAN,
            severity_number=SeverityNumber.ERROR if error is not None else SeverityNumber.INFO,
            severity_text="ERROR" if error is not None else "INFO",
            body=body,
            attributes=attributes,
            event_name=semconv.EVENT_PREDICTION,
        )
        if self._cache_body_json:
            # Nothing runs between here and the exporters, so the canonical text stays true.
            attach_body_json(
                record,
                f'{{{error_text}"{semconv.BODY_INPUT}":{encoded_input.text},'
                f'"{semconv.BODY_OUTPUT}":{encoded_output.text}}}',
            )
        self._logger.emit(record)
