"""Real model windows for INT8 calibration (TensorRT's calibrator, ONNX Runtime's static quantisation).

    windows = calibration_windows("utkinect:1,2,3,4", config)      # (N, C, T, V, M) float32, as the model sees them
    windows = calibration_windows("windows.npy", config)           # or windows saved before

Datasets resolve through `models.datasets.registry` under ``$SKELSTREAM_DATA``
or ``../shared/data`` (nothing is downloaded).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from foundation.errors import SkelstreamError
from models.checkpoint import CheckpointConfig
from models.export import ExportError


def parse_dataset_ref(ref: str) -> tuple[str, list[int] | None]:
    """``"utkinect:1,2"`` → ("utkinect", [1, 2]); ``"ntu"`` → ("ntu", None)."""
    name, _, subjects = ref.partition(":")
    try:
        return name, ([int(s) for s in subjects.split(",") if s.strip()] if subjects else None)
    except ValueError:
        raise ExportError(f"calibration data {ref!r}: subjects must be integers, e.g. utkinect:1,2") from None


def calibration_windows(
    source: str | Path,
    config: CheckpointConfig,
    data_root: str | Path | None = None,
    max_windows: int = 512,
    stride: int | None = None,
) -> np.ndarray:
    """Real (N, C, T, V, M) float32 windows shaped and normalised as the checkpoint expects.

    ``source`` is a dataset reference ``name[:subjects]`` resolved through the dataset registry under
    ``data_root`` (default: ``$SKELSTREAM_DATA`` or ``../shared/data``), or an ``.npy`` file of windows.
    Windows end every ``stride`` frames (default T // 2) of every sequence, exactly as
    `models.windows.cut_window` cuts them for training and streaming; at most ``max_windows``, spread evenly.
    """
    if str(source).endswith(".npy"):
        windows = np.load(source).astype(np.float32, copy=False)
        if windows.ndim != 5 or tuple(windows.shape[1:]) != config.model.input_shape:
            raise ExportError(f"{source}: windows of shape {windows.shape}, the checkpoint needs "
                              f"(N, {', '.join(map(str, config.model.input_shape))})")  # fmt: skip
        return windows[_spread(len(windows), max_windows)]
    from models.datasets.registry import load_dataset
    from models.windows import cut_window, prepare_sequence, window_ends

    if config.model.layout != "unified_30":
        raise ExportError(f"calibration from a dataset cuts unified_30 windows; the checkpoint uses layout "
                          f"{config.model.layout!r}: pass an .npy of windows instead")  # fmt: skip
    name, subjects = parse_dataset_ref(str(source))
    root = Path(data_root) if data_root is not None else default_data_root()
    try:
        sequences = load_dataset(name, root, subjects)
    except SkelstreamError as error:
        raise ExportError(f"calibration data {source}: {error}") from None
    if not sequences:
        raise ExportError(f"calibration data {source}: no sequences under {root}")
    length = config.num_frames
    stride = stride or max(1, length // 2)
    windows = []
    for sequence in sequences:
        prepared = prepare_sequence(sequence, config.fps, num_bodies=config.model.M)
        for end in window_ends(prepared.num_frames, stride):
            window, _ = cut_window(prepared, int(end), length, config.normalization)
            windows.append(window)
    stacked = np.stack(windows).astype(np.float32)
    return stacked[_spread(len(stacked), max_windows)]


def default_data_root() -> Path:
    if os.environ.get("SKELSTREAM_DATA"):
        return Path(os.environ["SKELSTREAM_DATA"])
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _spread(count: int, limit: int) -> np.ndarray:
    if count <= limit:
        return np.arange(count)
    return np.round(np.linspace(0, count - 1, limit)).astype(np.int64)
