"""An application that knows nothing of otel-audit: run under `opentelemetry-instrument`."""

from __future__ import annotations

import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

features = np.arange(24, dtype=np.float64).reshape(8, 3) / 10
labels = np.array([0, 1] * 4)
model = LogisticRegression().fit(features, labels)
predictions = model.predict(features[:4])
json.dump({"predictions": predictions.tolist()}, sys.stdout)
