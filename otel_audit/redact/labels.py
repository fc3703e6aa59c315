"""What may stand as an output label: a category name, never free text.

A label (``audit.output.label``, ``audit_predictions.OutputLabel``) is derived from a prediction's
output for distributions and joins. Free text copied there would escape the redaction of the
output it came from, so a label is only ever:

* a bool, or an int whose absolute value is below 10⁶;
* a string of at most three words of letters, digits and ``. : / + - _`` (48 characters a word,
  single spaces between words) that starts with a letter: ``approve``, ``POSITIVE``,
  ``class_3``, ``high risk``.

otel-audit's SDK derives a label only from such an output (or its ``label``/``prediction``/
``class``/``decision`` member), and every redactor (in-process, ``serve``'s door, the collector)
drops a client-sent label that is not one, counted as ``audit.redaction.label``. Sentences,
numbers written as text, e-mail addresses and anything longer are not labels.
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["CATEGORY_PATTERN", "LABEL_COUNT_NAME", "is_category"]

CATEGORY_PATTERN: Final = r"[^\W\d][\w.:/+-]{0,47}(?: [\w.:/+-]{1,48}){0,2}"
"""A category name (Python ``re`` with Unicode word characters; the collector's port says the same)."""

LABEL_COUNT_NAME: Final = "label"
"""Count name of client-sent labels dropped for not being a category (``audit.redaction.label``)."""

_CATEGORY: Final = re.compile(CATEGORY_PATTERN)


def is_category(value: Any) -> bool:
    """Whether *value* may stand as an output label (see the module docstring)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) < 10**6
    return isinstance(value, str) and _CATEGORY.fullmatch(value) is not None
