"""Audit every scikit-learn prediction: ``predict``, ``predict_proba``, ``decision_function``, ``transform``.

Usage::

    from otel_audit.instrumentation.sklearn import SklearnInstrumentor, label

    SklearnInstrumentor().instrument()
    label(pipeline, model="credit_scorer", version="v1.5.0")   # optional
    pipeline.predict(X)   # one audited prediction, batch size len(X)

or, with no code change, ``opentelemetry-instrument python app.py`` (see docs/instrumentation.md).

Each call on a fitted estimator (pipelines included; their steps are not audited again) is one
prediction: model = the :func:`label` given, else the estimator's class name; version = the
label's version, else ``sha256:<16 hex>``, a fingerprint of the estimator's class, parameters and
fitted attributes (recomputed only when a fitted attribute is replaced, e.g. by ``fit``).
``audit.input.hash`` hashes the whole ``X``; ``audit.batch.input_hashes[i]`` is
``hash_input(X[i])`` (a ``{column: value}`` dict for data frames).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from otel_audit import semconv
from otel_audit.instrumentation._base import (
    CallFacts,
    Patcher,
    audited_call,
    batch_max_rows,
    method_wrapper,
    run_unaudited,
)

__all__ = ["METHODS", "SklearnInstrumentor", "fingerprint", "label"]

_instruments = ("scikit-learn >= 1.3",)

METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")
"""Methods audited on every estimator class that defines them."""

_FINGERPRINT_DEPTH = 32

_FITTING = ("fit", "fit_transform", "fit_predict", "partial_fit")
"""Training methods: the transforms and predictions they make internally are not audited."""


@dataclass(frozen=True)
class _Label:
    model: str | None
    version: str | None


_labels: weakref.WeakKeyDictionary[Any, _Label] = weakref.WeakKeyDictionary()
_fingerprints: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], str]] = weakref.WeakKeyDictionary()


def label(estimator: Any, *, model: str | None = None, version: str | None = None) -> Any:
    """Name the model and/or version that *estimator*'s audited predictions carry; returns it."""
    if model is not None and (not isinstance(model, str) or not model):
        raise ValueError(f"model must be a non-empty string, not {model!r}")
    if version is not None and (not isinstance(version, str) or not version):
        raise ValueError(f"version must be a non-empty string, not {version!r}")
    _labels[estimator] = _Label(model, version)
    return estimator


def _fitted_names(estimator: Any) -> list[str]:
    return sorted(k for k in vars(estimator) if k.endswith("_") and not k.startswith("_"))


def _state_key(value: Any, depth: int = 0) -> tuple[Any, ...]:
    """Cheap identity of an estimator's fitted state: which objects its fitted attributes hold."""
    if depth > _FINGERPRINT_DEPTH or not hasattr(value, "get_params"):
        return (id(value),)
    key: list[Any] = [id(value)]
    for name in _fitted_names(value):
        key.append((name, id(vars(value)[name])))
    for step in getattr(value, "steps", None) or ():
        key.append(_state_key(step[-1], depth + 1))
    return tuple(key)


def _feed(digest: Any, value: Any, depth: int = 0) -> None:  # noqa: PLR0911, PLR0912 - one branch per type
    """Feed a typed, order-stable encoding of *value* into *digest*."""
    if depth > _FINGERPRINT_DEPTH:
        digest.update(b"<deep>")
        return
    if value is None or isinstance(value, (bool, int, float, str)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
        return
    if isinstance(value, bytes):
        digest.update(b"bytes:%d:" % len(value) + value)
        return
    dtype = getattr(value, "dtype", None)
    if dtype is not None and hasattr(value, "tobytes") and hasattr(value, "shape"):
        digest.update(f"ndarray:{dtype.str}:{tuple(value.shape)}:".encode())
        if dtype.hasobject:
            for item in value.ravel():
                _feed(digest, item, depth + 1)
        else:
            import numpy as np

            digest.update(np.ascontiguousarray(value).tobytes())
        return
    if hasattr(value, "get_params"):
        digest.update(f"estimator:{type(value).__module__}.{type(value).__qualname__}(".encode())
        for name, param in sorted(value.get_params(deep=False).items()):
            digest.update(name.encode() + b"=")
            _feed(digest, param, depth + 1)
        digest.update(b")fitted(")
        for name in _fitted_names(value):
            digest.update(name.encode() + b"=")
            _feed(digest, vars(value)[name], depth + 1)
        digest.update(b")")
        return
    if isinstance(value, dict):
        digest.update(b"dict{")
        for key in sorted(value, key=repr):
            _feed(digest, key, depth + 1)
            _feed(digest, value[key], depth + 1)
        digest.update(b"}")
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        digest.update(f"{type(value).__name__}[".encode())
        for item in items:
            _feed(digest, item, depth + 1)
        digest.update(b"]")
        return
    if callable(value) and hasattr(value, "__qualname__"):
        digest.update(f"callable:{getattr(value, '__module__', '')}.{value.__qualname__};".encode())
        return
    state = value.__getstate__() if hasattr(value, "__getstate__") else None
    digest.update(f"object:{type(value).__module__}.{type(value).__qualname__}".encode())
    if isinstance(state, dict):
        _feed(digest, state, depth + 1)


def fingerprint(estimator: Any) -> str:
    """``sha256:<16 hex>`` of *estimator*'s class, parameters and fitted attributes (cached)."""
    key = _state_key(estimator)
    try:
        cached = _fingerprints.get(estimator)
    except TypeError:
        cached = None
    if cached is not None and cached[0] == key:
        return cached[1]
    digest = hashlib.sha256()
    _feed(digest, estimator)
    value = "sha256:" + digest.hexdigest()[:16]
    with contextlib.suppress(TypeError):  # not weak-referenceable: recomputed each call
        _fingerprints[estimator] = (key, value)
    return value


def _identity(estimator: Any) -> tuple[str, str]:
    try:
        given = _labels.get(estimator)
    except TypeError:
        given = None
    model = given.model if given and given.model else type(estimator).__name__
    version = given.version if given and given.version else fingerprint(estimator)
    return model, version


def _defining_classes(classes: Collection[type], methods: Collection[str]) -> dict[tuple[type, str], None]:
    """Each (class, method) pair where one of *methods* is actually defined."""
    owners: dict[tuple[type, str], None] = {}
    for klass in classes:
        for method in methods:
            for base in klass.__mro__:
                if method in vars(base):
                    attribute = vars(base)[method]
                    if base is not object and (inspect.isfunction(attribute) or hasattr(attribute, "__get__")):
                        owners[(base, method)] = None
                    break
    return owners


class SklearnInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Audit the prediction methods of every scikit-learn estimator (``instrument()``/``uninstrument()``)."""

    _patcher = Patcher()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        from sklearn import __version__ as sklearn_version
        from sklearn.utils import all_estimators

        max_rows = int(kwargs.get("max_rows", batch_max_rows()))
        framework = f"sklearn {sklearn_version}"
        classes = [klass for _, klass in all_estimators()]
        extra: Collection[type] = kwargs.get("estimator_classes", ())
        for base, method in _defining_classes([*classes, *extra], METHODS):
            self._patcher.wrap(base, method, _wrapper_factory(method, framework, max_rows))
        for base, method in _defining_classes([*classes, *extra], _FITTING):
            self._patcher.wrap(base, method, _quiet_wrapper)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._patcher.restore()


def _wrapper_factory(method: str, framework: str, max_rows: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def audit(wrapped: Callable[..., Any], estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        def facts() -> CallFacts | None:
            features = args[0] if args else kwargs.get("X")
            if features is None:
                return None
            model, version = _identity(estimator)
            shape = getattr(features, "shape", None)
            rows = int(shape[0]) if shape is not None and len(shape) else len(features)
            return CallFacts(
                model=model,
                version=version,
                input=features,
                batch_size=rows,
                operation=method,
                attributes={semconv.ML_FRAMEWORK: framework},
                rows=True,
                max_rows=max_rows,
            )

        return audited_call("sklearn", facts, lambda: wrapped(estimator, *args, **kwargs))

    def make_wrapper(original: Any) -> Any:
        if inspect.isfunction(original):
            return method_wrapper(original, audit)
        return _DescriptorWrapper(original, audit)

    return make_wrapper


def _quiet_wrapper(original: Any) -> Any:
    def quiet(wrapped: Callable[..., Any], estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return run_unaudited(lambda: wrapped(estimator, *args, **kwargs))

    if inspect.isfunction(original):
        return method_wrapper(original, quiet)
    return _DescriptorWrapper(original, quiet)


class _DescriptorWrapper:
    """Wrap a method descriptor (``available_if``) so ``hasattr`` answers as before."""

    def __init__(self, descriptor: Any, audit: Callable[..., Any]) -> None:
        self._descriptor = descriptor
        self._audit = audit
        functools.update_wrapper(self, descriptor, updated=())  # type: ignore[arg-type]

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        bound = self._descriptor.__get__(instance, owner)  # raises AttributeError when unavailable
        if instance is None:
            return bound
        audit = self._audit

        @functools.wraps(bound)
        def call(*args: Any, **kwargs: Any) -> Any:
            return audit(lambda _self, *a, **k: bound(*a, **k), instance, args, kwargs)

        return call
