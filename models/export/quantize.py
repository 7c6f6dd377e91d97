"""Static INT8 post-training quantisation (QDQ) of an ONNX export, with ONNX Runtime's own tooling.

    result = quantize_onnx("model.onnx", "model.int8.onnx", windows, source="utkinect:1,2,3,4")
    path = cached_int8_onnx("models/checkpoints/actions")   # exported, calibrated and cached once

How: `onnxruntime.quantization.quantize_static` in the QDQ format
(QuantizeLinear/DequantizeLinear pairs around the quantised ops; the graph is
otherwise the float export), calibrated (MinMax) on real windows from the
checkpoint's training data; activations and weights int8 and symmetric (zero
point 0), weights per output channel. Only MatMul and Gemm are quantised:
LayerNormalization, Softmax and GELU stay float (quantising every op was
slower here, dste-small batch 8: 35.9 ms against 22.0 ms for MatMul/Gemm only,
and less exact). The graph is shape-inferred first
(``quant_pre_process``) without ONNX Runtime's own fusions, so it holds
standard ONNX ops only.

Symmetric int8 QDQ on MatMul/Gemm is what TensorRT's explicit quantisation
consumes: an engine built from such a graph with the INT8 flag takes these
scales and needs no calibrator (`models.export.tensorrt_build.build_engine`;
not run here: no TensorRT on these machines). Quantise an opset-18 export for
TensorRT (``stream-export --opset 18 --quantize int8``); ONNX Runtime's cache
uses its opset 20.

The result keeps the export's metadata (the checkpoint config) and records
what it was calibrated on (`META_QUANTIZATION`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foundation.optional import require
from models.checkpoint import CheckpointConfig, read_config
from models.export import ExportError

logger = logging.getLogger(__name__)

META_QUANTIZATION = "skelstream.quantization"
QUANTIZED_OPS = ("MatMul", "Gemm")
CALIBRATION_BATCH = 16
QUANTIZE_FORMAT_VERSION = 1  # bump when the quantisation recipe changes (invalidates caches)


@dataclass
class QuantizeResult:
    """What `quantize_onnx` wrote."""

    path: Path
    windows: int
    source: str
    quantized_nodes: int
    seconds: float


def training_calibration_source(config: CheckpointConfig) -> str | None:
    """The checkpoint's training data as a dataset reference (``utkinect:1,2,3,4``), or None when not recorded."""
    train = (config.training or {}).get("config", {}).get("train") or []
    return str(train[0]) if train else None


def is_quantized(path: str | Path) -> bool:
    """Whether an ONNX file holds QuantizeLinear nodes (an explicitly quantised, QDQ graph)."""
    onnx = require("onnx", extra="onnx", what="reading an ONNX graph")
    model = onnx.load(str(path), load_external_data=False)
    return any(node.op_type == "QuantizeLinear" for node in model.graph.node)


def quantize_onnx(source: str | Path, output: str | Path, windows: np.ndarray, calibration: str = "") -> QuantizeResult:
    """Quantise the float export ``source`` into ``output`` (module docstring), calibrated on ``windows``
    ((N, C, T, V, M) float32 real windows); ``calibration`` names them in the metadata."""
    onnx = require("onnx", extra="onnx", what="INT8 quantisation")
    require("onnxruntime", extra="onnx", what="INT8 quantisation")
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, \
        quantize_static  # fmt: skip
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from models.export.onnx_export import INPUT_NAME

    if windows.ndim != 5 or windows.dtype != np.float32 or len(windows) == 0:
        raise ExportError(f"calibration needs a non-empty float32 (N, C, T, V, M) array, got {windows.dtype} "
                          f"{windows.shape}")  # fmt: skip
    started = time.perf_counter()
    source, output = Path(source), Path(output)

    class Windows(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(np.array_split(windows, max(1, len(windows) // CALIBRATION_BATCH)))

        def get_next(self) -> dict | None:
            batch = next(self.batches, None)
            return None if batch is None else {INPUT_NAME: np.ascontiguousarray(batch)}

    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as scratch:
        inferred = Path(scratch) / "inferred.onnx"
        quant_pre_process(str(source), str(inferred), skip_optimization=True, skip_symbolic_shape=True)
        partial = Path(scratch) / "int8.onnx"
        quantize_static(str(inferred), str(partial), Windows(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=True,
                        op_types_to_quantize=list(QUANTIZED_OPS), calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})  # fmt: skip
        model = onnx.load(str(partial))
        metadata = {prop.key: prop.value for prop in onnx.load(str(source), load_external_data=False).metadata_props}
        metadata[META_QUANTIZATION] = json.dumps({
            "format": "QDQ", "activations": "int8 symmetric", "weights": "int8 symmetric per channel",
            "ops": list(QUANTIZED_OPS), "calibration": calibration, "windows": int(len(windows)),
            "method": "MinMax", "version": QUANTIZE_FORMAT_VERSION,
        })  # fmt: skip
        del model.metadata_props[:]
        for key, value in metadata.items():
            model.metadata_props.add(key=key, value=value)
        onnx.save(model, str(partial))
        os.replace(partial, output)
    quantized = sum(node.op_type == "QuantizeLinear" for node in model.graph.node)
    seconds = time.perf_counter() - started
    logger.info("quantised %s → %s on %d windows of %s (%d QuantizeLinear) in %.1f s", source, output, len(windows),
                calibration or "given windows", quantized, seconds)  # fmt: skip
    return QuantizeResult(output, int(len(windows)), calibration, quantized, seconds)


def cached_int8_onnx(checkpoint: str | Path, cache_dir: str | Path | None = None, opset: int | None = None,
                     calibration: str | None = None, data_root: str | Path | None = None,
                     max_windows: int = 256) -> Path:  # fmt: skip
    """The INT8 export of ``checkpoint``, quantised on first use beside its float export in the cache.

    ``calibration``: a dataset reference (default: the checkpoint's training data, `training_calibration_source`)
    resolved under ``data_root`` (default ``$SKELSTREAM_DATA`` or ``../shared/data``), or an ``.npy`` of windows.
    """
    from models.export.calibration import calibration_windows
    from models.export.onnx_export import ONNXRUNTIME_OPSET, cached_onnx

    config = read_config(checkpoint)
    source = calibration or training_calibration_source(config)
    if source is None:
        raise ExportError(f"{checkpoint}: its config records no training data to calibrate INT8 on; give the "
                          "calibration data (a dataset such as utkinect:1,2 or an .npy of windows)")  # fmt: skip
    fp32 = cached_onnx(checkpoint, cache_dir, opset=opset or ONNXRUNTIME_OPSET)
    safe = "".join(c if c.isalnum() else "_" for c in Path(str(source)).name)
    path = fp32.with_name(f"model.int8.{safe}.{max_windows}.v{QUANTIZE_FORMAT_VERSION}.onnx")
    if path.is_file():
        return path
    try:
        windows = calibration_windows(source, config, data_root, max_windows=max_windows)
    except ExportError as error:
        raise ExportError(f"INT8 is calibrated once on real windows ({error}); put the data under "
                          "$SKELSTREAM_DATA, or quantise where it is (stream-export --quantize int8) and run the "
                          ".int8.onnx it writes") from None  # fmt: skip
    quantize_onnx(fp32, path, windows, calibration=str(source))
    return path
