"""Checkpoint → ONNX, checked against the eager model, with the checkpoint config embedded as metadata.

    from models.export.onnx_export import export_onnx, read_onnx_config

    result = export_onnx("models/checkpoints/actions", "dste-small.onnx")
    result.max_abs_error            # ONNX Runtime vs torch on batches 1 and 3, already checked against a bound
    config, meta = read_onnx_config("dste-small.onnx")   # the CheckpointConfig travels with the file

How (DESIGN.md §6): ``torch.onnx.export(..., dynamo=True)`` (needs onnxscript)
with an example batch of 2 and a dynamic batch dimension; the legacy
TorchScript exporter froze dimensions. T, V and M stay fixed: the model's
token-mixing Linear(L, L) layers fix them. The exporter's onnxscript optimizer
(constant folding, dead-code and redundant-op elimination) is the
simplification step; the result passes ``onnx.checker`` (full check, with shape
inference) and, where onnxruntime is installed, its outputs are compared with
the eager model's on batch 1 and 3 before the file is accepted.

Opset 18 by default: LayerNormalization is native, and TensorRT 10's ONNX
parser (JetPack 6 included) reads it. Opset 20 adds a native Gelu, and that
matters to ONNX Runtime: the exporter writes opset 18's GELU as
``x * (0.5 * (1 + erf(x / sqrt 2)))``, an order ONNX Runtime 1.31's GELU fusion
does not match, so it stays five element-wise kernels (eight times in
dste-small). The onnxruntime backend therefore exports its cache at
`ONNXRUNTIME_OPSET` (20); TensorRT keeps the default.

The outputs of the two encoder streams keep stable value names inside the
graph (`TEMPORAL_FEATURES`, `SPATIAL_FEATURES`; not graph outputs), so
`split_streams` can cut an export into the temporal stream, the spatial stream
and the head: the onnxruntime backend runs the two streams concurrently, one
thread each (see ``stream/backends/onnxruntime_backend.py``).

`cached_onnx` exports a checkpoint once into a cache folder keyed by the
checkpoint's fingerprint (SHA-256 of config.json and model.safetensors), so a
backend can be pointed at a checkpoint directory.

A checkpoint directory may carry its own export, `RUNTIME_ONNX` (written by
``stream-export --checkpoint DIR --into-checkpoint``, verified against torch):
`checkpoint_onnx` prefers it while its recorded fingerprint matches the
weights, so a runtime without torch (the ``runtime`` extra) runs the
checkpoint; without a current one it exports into the cache (needs torch).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from foundation.optional import is_available, require
from foundation.output_files import OutputError, StagedOutput
from models.checkpoint import CONFIG_FILE, WEIGHTS_FILE, CheckpointConfig, CheckpointError, read_config
from models.export import ExportError

logger = logging.getLogger(__name__)

INPUT_NAME = "windows"
OUTPUT_NAME = "logits"
TEMPORAL_FEATURES = "temporal_features"  # (batch, T, d): the temporal stream's output, named inside the graph
SPATIAL_FEATURES = "spatial_features"  # (batch, M·V, d): the spatial stream's output, when the head reads it
DEFAULT_OPSET = 18
ONNXRUNTIME_OPSET = 20  # what the onnxruntime backend exports at: GELU is one native op (see above)
EXPORT_FORMAT_VERSION = 2  # bump when the exported graph changes for the same checkpoint (invalidates caches)
META_CONFIG = "skelstream.checkpoint_config"
META_FINGERPRINT = "skelstream.checkpoint_sha256"
META_EXPORT = "skelstream.export"
# Accept an export when |onnx - torch| <= ATOL + RTOL * max|torch| on every logit (fp32 on CPU: measured
# errors are ~1e-6 relative; see tests/stream/test_backend_equivalence.py for the bounds the backends keep).
VERIFY_ATOL = 1e-4
VERIFY_RTOL = 1e-4
RUNTIME_ONNX = "model.onnx"
"""A checkpoint directory's own export, at `ONNXRUNTIME_OPSET`: what a runtime without torch runs."""


@dataclass
class ExportResult:
    """What `export_onnx` wrote and how it checked it."""

    path: Path
    config: CheckpointConfig
    fingerprint: str
    opset: int
    nodes: int
    seconds: float
    max_abs_error: float | None = None  # None: not verified (onnxruntime absent or verify=False)
    verified_batches: tuple[int, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)


def checkpoint_fingerprint(directory: str | Path) -> str:
    """SHA-256 of the checkpoint's config.json and model.safetensors (the cache key of its exports)."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        path = directory / name
        if not path.is_file():
            raise CheckpointError(f"{directory}: no {name}; a checkpoint is a directory with {CONFIG_FILE} "
                                  f"and {WEIGHTS_FILE}")  # fmt: skip
        digest.update(name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """``$SKELSTREAM_CACHE``, else ``$XDG_CACHE_HOME/skelstream``, else ``~/.cache/skelstream``."""
    if os.environ.get("SKELSTREAM_CACHE"):
        return Path(os.environ["SKELSTREAM_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "skelstream"


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's progress prints and its warnings about unrelated optional packages."""
    names = ("torch.onnx._internal.exporter._registration", "torch.onnx._internal.exporter._core", "onnxscript",
             "onnx_ir")
    loggers = [logging.getLogger(name) for name in names]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for log, level in zip(loggers, levels):
            log.setLevel(level)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def export_onnx(
    checkpoint: str | Path,
    output: str | Path,
    opset: int = DEFAULT_OPSET,
    optimize: bool = True,
    verify: bool = True,
    verify_batches: tuple[int, ...] = (1, 3),
) -> ExportResult:
    """Export the detection checkpoint in ``checkpoint`` to ``output`` (an ``.onnx`` file).

    Input ``windows`` (batch, C, T, V, M) float32 with a dynamic batch; output ``logits`` (batch, T, K + 1).
    The checkpoint config, the checkpoint fingerprint and the export settings are stored as ONNX metadata.
    Raises `CheckpointError` (bad checkpoint), `MissingDependencyError` (onnx / onnxscript absent) or
    `ExportError` (the exporter failed, or the result fails the checker or the comparison with torch).
    """
    started = time.perf_counter()
    checkpoint = Path(checkpoint)
    output = Path(output)
    config = read_config(checkpoint)  # validate the config before anything heavy
    if config.task != "detection":
        raise ExportError(f"{checkpoint}: a {config.task} checkpoint; stream-export exports detection checkpoints")
    if output.is_dir():
        raise ExportError(f"{output} is a directory; --output names the .onnx file to write")
    onnx = require("onnx", extra="onnx", what="ONNX export")
    require("onnxscript", extra="onnx", what="ONNX export (torch.onnx.export(dynamo=True))")
    torch = require("torch", extra="train", what="ONNX export")

    from models.checkpoint import load_checkpoint

    fingerprint = checkpoint_fingerprint(checkpoint)
    model, config = load_checkpoint(checkpoint)
    example = torch.randn(2, *config.model.input_shape, generator=torch.Generator().manual_seed(0))
    batch = torch.export.Dim("batch", min=1)
    # A head that reads both streams: name them in the graph, so that they can run in parallel (`split_streams`).
    streams = [TEMPORAL_FEATURES, SPATIAL_FEATURES] if model.frame_pool is not None else []
    try:
        with _quiet_exporter():
            program = torch.onnx.export(_with_stream_outputs(model) if streams else model, (example,), dynamo=True,
                                        input_names=[INPUT_NAME], output_names=[OUTPUT_NAME, *streams],
                                        opset_version=opset, dynamic_shapes=({0: batch},), optimize=optimize,
                                        verbose=False, report=False)  # fmt: skip
    except Exception as error:  # the exporter's failures are many and deep: report them in one line
        raise ExportError(f"{checkpoint}: torch.onnx.export failed: {_first_line(error)}") from error
    for _ in streams:  # the stream outputs stay named values inside the graph; the model's one output is logits
        program.model.graph.outputs.pop()
    metadata = {
        META_CONFIG: json.dumps(config.to_dict()),
        META_FINGERPRINT: fingerprint,
        META_EXPORT: json.dumps({"exporter": "torch.onnx.export(dynamo=True)", "torch": torch.__version__,
                                 "opset": opset, "optimized": optimize, "format_version": EXPORT_FORMAT_VERSION}),
    }  # fmt: skip
    program.model.metadata_props.update(metadata)
    program.model.doc_string = (f"skelstream {config.variant} detector: windows (N, C, T, V, M) -> "
                                f"per-frame logits (N, T, K + 1); labels {config.labels}")  # fmt: skip
    try:  # written under a temporary name, checked and verified there, renamed into place only then
        staged = StagedOutput(output)
    except OutputError as error:
        raise ExportError(str(error)) from None
    try:
        try:
            program.save(str(staged.path))
        except OSError as error:
            raise ExportError(f"{output}: cannot write: {error}") from None
        try:
            onnx.checker.check_model(str(staged.path), full_check=True)
        except Exception as error:
            raise ExportError(f"{output}: the ONNX checker rejects the export: {_first_line(error)}") from error
        nodes = len(program.model.graph)
        result = ExportResult(path=output, config=config, fingerprint=fingerprint, opset=opset, nodes=nodes,
                              seconds=0.0, metadata=metadata)  # fmt: skip
        if verify:
            try:
                result.max_abs_error = verify_onnx(staged.path, model, config, verify_batches)
                result.verified_batches = tuple(verify_batches)
            except ImportError:
                logger.warning("onnxruntime is not installed: %s was not compared with the torch model", output)
    except BaseException:
        staged.discard()
        raise
    try:
        staged.commit()
    except OutputError as error:
        raise ExportError(str(error)) from None
    result.seconds = time.perf_counter() - started
    logger.info("exported %s → %s (%d nodes, opset %d) in %.1f s", checkpoint, output, nodes, opset, result.seconds)
    return result


def _with_stream_outputs(model: Any) -> Any:
    """``model`` (a `DSTEDetector`) returning its logits and the outputs of its two streams: exported like that,
    the stream outputs get their names in the graph."""
    import torch

    class WithStreams(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, windows: torch.Tensor) -> tuple[torch.Tensor, ...]:
            features = self.model.forward_features(windows)
            return self.model.forward_head(features), features.temporal, features.spatial

    return WithStreams()


def split_streams(path: str | Path) -> tuple[bytes, bytes, bytes] | None:
    """The temporal stream (windows → `TEMPORAL_FEATURES`), the spatial stream (windows → `SPATIAL_FEATURES`)
    and the head (both → logits) of an export, as three serialised ONNX models; None when the export does not
    name both stream outputs (an export of an earlier version, or a head that reads the temporal stream only)."""
    onnx = require("onnx", extra="onnx", what="splitting an ONNX export into its streams")
    from onnx.utils import Extractor

    model = onnx.load(str(path))
    produced = {name for node in model.graph.node for name in node.output}
    if not {TEMPORAL_FEATURES, SPATIAL_FEATURES} <= produced:
        return None
    extractor = Extractor(model)
    parts = (([INPUT_NAME], [TEMPORAL_FEATURES]), ([INPUT_NAME], [SPATIAL_FEATURES]),
             ([TEMPORAL_FEATURES, SPATIAL_FEATURES], [OUTPUT_NAME]))  # fmt: skip
    temporal, spatial, head = (extractor.extract_model(*part).SerializeToString() for part in parts)
    return temporal, spatial, head


def verify_onnx(path: str | Path, model: Any, config: CheckpointConfig, batches: tuple[int, ...] = (1, 3)) -> float:
    """Max |ONNX Runtime − torch| over the logits of random windows of each batch size; raises ExportError past
    ``VERIFY_ATOL + VERIFY_RTOL * max|torch|`` (ImportError without onnxruntime). A model with missing-joint
    prompts gets windows with some joints NaN-marked, as its normalisation gives them."""
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for n in batches:
        windows = rng.normal(size=(n, *config.model.input_shape)).astype(np.float32)
        if config.model.missing_prompts:
            missing = rng.uniform(size=(n, 1, *config.model.input_shape[1:])) < 0.1
            windows = np.where(missing, np.float32(np.nan), windows)
        with torch.inference_mode():
            expected = model(torch.from_numpy(windows)).numpy()
        (actual,) = session.run([OUTPUT_NAME], {INPUT_NAME: windows})
        if actual.shape != expected.shape:
            raise ExportError(f"{path}: batch {n} gives logits {actual.shape}, torch gives {expected.shape}")
        error = float(np.abs(actual - expected).max())
        bound = VERIFY_ATOL + VERIFY_RTOL * float(np.abs(expected).max())
        if not error <= bound:
            raise ExportError(f"{path}: ONNX Runtime differs from torch by {error:.3g} at batch {n} "
                              f"(bound {bound:.3g})")  # fmt: skip
        worst = max(worst, error)
    return worst


def onnx_metadata(path: str | Path) -> dict[str, str]:
    """The metadata properties of an ONNX file (weights are not loaded)."""
    onnx = require("onnx", extra="onnx", what="reading ONNX metadata")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:
        raise CheckpointError(f"{path}: not a readable ONNX file: {_first_line(error)}") from None
    return {prop.key: prop.value for prop in model.metadata_props}


def config_from_metadata(metadata: dict[str, str], source: str) -> CheckpointConfig:
    """The checkpoint config stored by `export_onnx`, validated like a config.json."""
    if META_CONFIG not in metadata:
        raise CheckpointError(f"{source}: no skelstream checkpoint config in its metadata; export it with "
                              "stream-export --checkpoint DIR --output model.onnx")  # fmt: skip
    try:
        data = json.loads(metadata[META_CONFIG])
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{source}: the embedded checkpoint config is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{source}: the embedded checkpoint config is not a JSON object")
    return CheckpointConfig.from_dict(data, source=f"{source} (metadata)")


def read_onnx_config(path: str | Path) -> tuple[CheckpointConfig, dict[str, str]]:
    """The checkpoint config embedded in an exported ONNX file, and all its metadata."""
    metadata = onnx_metadata(path)
    return config_from_metadata(metadata, str(path)), metadata


def checkpoint_onnx(checkpoint: str | Path, cache_dir: str | Path | None = None) -> Path:
    """The ONNX Runtime export of a checkpoint directory: its own `RUNTIME_ONNX` when that was exported from
    these weights and config, else `cached_onnx` at `ONNXRUNTIME_OPSET` (exported on first use, which needs
    torch; without it, a `CheckpointError` naming the command that writes `RUNTIME_ONNX`)."""
    checkpoint = Path(checkpoint)
    read_config(checkpoint)  # a bad checkpoint fails here, with its own message
    own = checkpoint / RUNTIME_ONNX
    if own.is_file():
        exported_from = onnx_metadata(own).get(META_FINGERPRINT)
        if exported_from == checkpoint_fingerprint(checkpoint):
            return own
        logger.warning("%s was exported from other weights or another config than %s's: ignored (write a current "
                       "one: stream-export --checkpoint %s --into-checkpoint)", own, checkpoint, checkpoint)
    if not is_available("torch"):
        state = "is out of date" if own.is_file() else "is missing"
        raise CheckpointError(f"{own} {state}, and this install cannot export the checkpoint (no torch: the runtime "
                              f"extra); write it where torch is installed: stream-export --checkpoint {checkpoint} "
                              "--into-checkpoint")  # fmt: skip
    return cached_onnx(checkpoint, cache_dir, opset=ONNXRUNTIME_OPSET)


def cached_onnx(checkpoint: str | Path, cache_dir: str | Path | None = None, opset: int = DEFAULT_OPSET) -> Path:
    """The ONNX export of ``checkpoint``, exported (and verified) on first use into
    ``cache_dir/onnx/<fingerprint>-opset<N>-v<format>/model.onnx``.

    The key is the checkpoint's fingerprint, so changed weights or config export anew; a concurrent
    exporter of the same key is harmless (each writes a private folder, the first rename wins).
    """
    checkpoint = Path(checkpoint)
    read_config(checkpoint)  # a bad checkpoint fails here, with its own message
    key = f"{checkpoint_fingerprint(checkpoint)[:24]}-opset{opset}-v{EXPORT_FORMAT_VERSION}"
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    final = root / "onnx" / key
    path = final / "model.onnx"
    if path.is_file():
        logger.info("using the cached ONNX export %s", path)
        return path
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
    try:
        logger.info("exporting %s to ONNX (first use; cached in %s)", checkpoint, final)
        export_onnx(checkpoint, staging / "model.onnx", opset=opset)
        try:
            staging.rename(final)
        except OSError:  # another process finished first
            if not path.is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path
