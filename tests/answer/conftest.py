"""Fixtures of the answer tests: a store seeded with known predictions (see answer_seed)."""

from __future__ import annotations

import random

import pytest
from answer_seed import Seeded, insert_predictions, make_prediction

from otel_audit.store.connect import Store


@pytest.fixture
def seeded(store: Store) -> Seeded:
    """A store holding 300 known predictions of two models (one delivered twice)."""
    rng = random.Random(6)
    predictions = [make_prediction(rng, index) for index in range(300)]
    insert_predictions(store, predictions)
    insert_predictions(store, predictions[:1])  # at-least-once delivery: a duplicate row
    return Seeded(store, predictions)
