"""Confusion matrix and its plot (rows: true class, columns: predicted class)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def confusion_matrix(pred: np.ndarray, true: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) int64 counts; entry [i, j] counts items of true class i predicted as j."""
    pred = np.asarray(pred)
    true = np.asarray(true)
    if pred.ndim != 1 or pred.shape != true.shape:
        raise ValueError(f"pred {pred.shape} and true {true.shape} must be equal-length 1-D arrays")
    if pred.size == 0:
        raise ValueError("pred and true are empty")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    for name, labels in (("pred", pred), ("true", true)):
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name} must hold integer class indices, got dtype {labels.dtype}")
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(f"{name} labels must lie in [0, {num_classes}), got [{labels.min()}, {labels.max()}]")
    flat = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


def plot_confusion(
    matrix: np.ndarray,
    class_names: Sequence[str],
    path: str | Path,
    predicted_names: Sequence[str] | None = None,
) -> Path:
    """Write a PNG of ``matrix``: colour is the row-normalised rate, each non-zero cell shows its count.

    Rows are the true ``class_names``; columns are ``predicted_names`` when the
    predictions have their own vocabulary (a rectangular matrix, e.g. a
    dataset's actions against a checkpoint's labels), else the same names.
    Renders with matplotlib's Agg canvas directly (no pyplot, no GUI, no global
    backend change); the figure grows with the number of classes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matrix = np.asarray(matrix)
    columns = list(class_names if predicted_names is None else predicted_names)
    num_rows, num_columns = len(class_names), len(columns)
    if matrix.ndim != 2 or matrix.shape != (num_rows, num_columns):
        raise ValueError(
            f"matrix must be ({num_rows}, {num_columns}) for {num_rows} class names and {num_columns} predicted "
            f"names, got {matrix.shape}"
        )
    if num_rows == 0 or num_columns == 0:
        raise ValueError("class_names is empty")
    row_totals = matrix.sum(axis=1, keepdims=True)
    rates = np.divide(matrix, row_totals, out=np.zeros(matrix.shape, float), where=row_totals > 0)

    longest = max(num_rows, num_columns)
    font = 8 if longest <= 20 else 6
    figure = Figure(figsize=(max(4.0, 0.4 * num_columns + 2.0) + 1.0, max(4.0, 0.4 * num_rows + 2.0)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="fraction of true class")
    for i, j in zip(*np.nonzero(matrix)):
        axes.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=font,
                  color="white" if rates[i, j] > 0.5 else "black")
    axes.set_xticks(np.arange(num_columns), labels=columns, rotation=90, fontsize=font)
    axes.set_yticks(np.arange(num_rows), labels=list(class_names), fontsize=font)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, format="png")
    return path
