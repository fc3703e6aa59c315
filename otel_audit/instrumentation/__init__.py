"""OpenTelemetry instrumentors that audit predictions of ML frameworks with no code change.

Each framework has one :class:`~opentelemetry.instrumentation.instrumentor.BaseInstrumentor`
subclass, registered under the ``opentelemetry_instrumentor`` entry point so that
``opentelemetry-instrument python app.py`` finds it:

=================  ===================================================  ==========================
entry point        instrumentor                                         extra
=================  ===================================================  ==========================
``otel_audit_sklearn``       :class:`.sklearn.SklearnInstrumentor`        ``otel-audit[sklearn]``
``otel_audit_torch``         :class:`.torch.TorchInstrumentor`            ``otel-audit[torch]``
``otel_audit_transformers``  :class:`.transformers.TransformersInstrumentor`  ``otel-audit[transformers]``
``otel_audit_openai``        :class:`.openai.OpenAIInstrumentor`          ``otel-audit[openai]``
``otel_audit_asgi``          :class:`.asgi.AsgiInstrumentor`              ``otel-audit[asgi]``
=================  ===================================================  ==========================

Records go to the runtime of :func:`otel_audit.configure`, or, when the application never calls
it, to one configured from the environment on the first audited call (``OTEL_AUDIT_STORE``,
``OTEL_EXPORTER_OTLP_*``). See ``docs/instrumentation.md``.
"""

from __future__ import annotations

__all__: list[str] = []
