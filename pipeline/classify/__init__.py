"""Classification: apply a trained task model to every row of its feature table.

Labelled or not, every entity gets a predicted class and the model's probability for it;
port predictions keep `project_id` so they can be grouped per project.

predict.py the pure part (`classify`: a model and a feature table in, predictions out); stage.py
the entry point of `dcnet classify` (reads the models and features, writes the predictions).
"""

from __future__ import annotations

from pipeline.classify.predict import OUTPUT_COLUMNS, classify

__all__ = ["OUTPUT_COLUMNS", "classify"]
