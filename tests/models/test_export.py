"""`stream-export` and the export helpers: ONNX that passes the checker, carries its config and keeps a dynamic
batch; one-line errors for bad checkpoints and missing extras; the TensorRT engine key, sidecar and calibration
data (the parts that need no GPU), and engine builds where TensorRT imports."""

import json
from contextlib import nullcontext

import numpy as np
import pytest

from foundation.optional import is_available
from models.cli.export import main
from tests.conftest import VARIANT_LABELS, variant_checkpoint


ONNX_STACK = ("onnx", "onnxruntime", "onnxscript")
needs_onnx = pytest.mark.skipif(not all(is_available(m) for m in ONNX_STACK),
                                reason="the onnx extra is not installed: pip install -e '.[onnx]'")  # fmt: skip
TRT_REASON = "TensorRT is not installed (needs an NVIDIA GPU; see benchmarks/README.md)"
needs_tensorrt = pytest.mark.skipif(not is_available("tensorrt"), reason=TRT_REASON)
LABELS = VARIANT_LABELS


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return variant_checkpoint(tmp_path_factory, "dste-small")


@pytest.fixture(scope="module")
def small_onnx(small, tmp_path_factory):
    output = tmp_path_factory.mktemp("export") / "dste-small.onnx"
    assert main(["--checkpoint", small, "--output", str(output)]) == 0
    return output


def session(model):
    """An ONNX Runtime CPU session of an ONNX file, or of a serialised model (bytes)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(model if isinstance(model, bytes) else str(model), options,
                                providers=["CPUExecutionProvider"])  # fmt: skip


@needs_onnx
def test_small_export_passes_the_checker_and_carries_its_config(small, small_onnx):
    from models.checkpoint import read_config
    import onnx

    from models.export.onnx_export import META_FINGERPRINT, checkpoint_fingerprint, read_onnx_config

    onnx.checker.check_model(str(small_onnx), full_check=True)
    config, metadata = read_onnx_config(small_onnx)
    assert config.to_dict() == read_config(small).to_dict()
    assert metadata[META_FINGERPRINT] == checkpoint_fingerprint(small)
    graph = onnx.load(str(small_onnx), load_external_data=False).graph
    (inp,) = graph.input
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert inp.name == "windows" and isinstance(dims[0], str) and dims[1:] == [3, 64, 30, 2]  # batch dynamic only
    assert [o.name for o in graph.output] == ["logits"]


@needs_onnx
@pytest.mark.parametrize("batch", [1, 3, 8])
def test_dynamic_batch_matches_torch(small, small_onnx, batch):
    import torch

    from models.checkpoint import load_checkpoint

    model, config = load_checkpoint(small)
    windows = np.random.default_rng(batch).normal(size=(batch, *config.model.input_shape)).astype(np.float32)
    (logits,) = session(small_onnx).run(None, {"windows": windows})
    with torch.inference_mode():
        expected = model(torch.from_numpy(windows)).numpy()
    assert logits.shape == (batch, 64, len(LABELS))
    assert np.abs(logits - expected).max() <= 2e-5


@needs_onnx
def test_export_names_its_streams_and_splits_into_them(small_onnx):
    """The stream outputs are named values inside the graph (not outputs); cut there, the temporal stream, the
    spatial stream and the head give the whole graph's logits."""
    from models.export.onnx_export import SPATIAL_FEATURES, TEMPORAL_FEATURES, split_streams

    temporal, spatial, head = (session(part) for part in split_streams(small_onnx))
    assert [i.name for i in head.get_inputs()] == [TEMPORAL_FEATURES, SPATIAL_FEATURES]
    windows = np.random.default_rng(4).normal(size=(3, 3, 64, 30, 2)).astype(np.float32)
    (temporal_features,) = temporal.run(None, {"windows": windows})
    (spatial_features,) = spatial.run(None, {"windows": windows})
    assert temporal_features.shape == (3, 64, 128) and spatial_features.shape == (3, 60, 128)
    (logits,) = head.run(None, {TEMPORAL_FEATURES: temporal_features, SPATIAL_FEATURES: spatial_features})
    np.testing.assert_allclose(logits, session(small_onnx).run(None, {"windows": windows})[0], rtol=0, atol=1e-6)


@needs_onnx
def test_a_head_that_reads_one_stream_is_not_split(tmp_path):
    from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
    from models.dste_config import DSTEConfig
    from models.export.onnx_export import export_onnx, split_streams

    model = DSTEConfig(dim=32, depth=1, T=16, num_classes=3, frame_feature="temporal")
    config = CheckpointConfig(model=model, task="detection", labels=["background", "a", "b"], fps=15.0)
    save_checkpoint(tmp_path / "ckpt", build_model(config), config)
    result = export_onnx(tmp_path / "ckpt", tmp_path / "m.onnx")
    assert result.max_abs_error is not None and split_streams(result.path) is None


@needs_onnx
def test_the_onnxruntime_graph_is_lean(small, tmp_path):
    """What makes dste-small fast on ONNX Runtime, kept from coming back: after ONNX Runtime's own optimisation
    of an export at its opset, ≈233 kernels (the first export had ≈340), no transposes but the two that lay out
    the tokens, every Linear one Gemm (embeddings 2×2, per layer conv 1 + qkv 2 + proj 2 + MLPs 4, unfold, head:
    42), GELU one op per MLP, and no select, mean or convolution left in the layers."""
    import collections

    import onnx
    import onnxruntime as ort

    from models.export.onnx_export import ONNXRUNTIME_OPSET, export_onnx

    path = export_onnx(small, tmp_path / "m.onnx", opset=ONNXRUNTIME_OPSET, verify=False).path
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    options.log_severity_level = 3
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    ops = collections.Counter(node.op_type for node in onnx.load(str(tmp_path / "optimized.onnx")).graph.node)
    assert ops["Transpose"] == 2 and ops["Gemm"] + ops["FusedGemm"] == 42 and ops["Gelu"] == 8, ops
    assert not {"Erf", "Where", "ReduceMean", "Conv", "FusedConv"} & set(ops), ops
    assert sum(ops.values()) <= 240, ops


@needs_onnx
def test_base_export_is_checked_and_cached(tmp_path_factory):
    """dste-base (≈57 M parameters, ≈250 MB of ONNX): ≈20 s to export here, so exported once per run into the
    cache that tests/stream/test_backend_equivalence.py reuses."""
    import onnx

    from models.export.onnx_export import cached_onnx, read_onnx_config

    checkpoint = variant_checkpoint(tmp_path_factory, "dste-base")
    cache = tmp_path_factory.getbasetemp() / "onnx-cache"
    path = cached_onnx(checkpoint, cache)
    assert cached_onnx(checkpoint, cache) == path  # second call: from the cache
    onnx.checker.check_model(str(path), full_check=True)
    config, _ = read_onnx_config(path)
    assert config.model.dim == 1024 and config.variant == "dste-base"
    windows = np.zeros((2, *config.model.input_shape), np.float32)
    assert session(path).run(None, {"windows": windows})[0].shape == (2, 64, len(LABELS))


@pytest.mark.parametrize(
    "config_text, message",
    [
        ("{not json", "not valid JSON"),
        ('{"format": "skelstream-checkpoint", "format_version": 1}', "missing keys"),
        (None, "no config.json"),
    ],
)
def test_a_broken_checkpoint_exits_2_with_one_line(tmp_path, capsys, config_text, message):
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    if config_text is not None:
        (checkpoint / "config.json").write_text(config_text)
    assert main(["--checkpoint", str(checkpoint), "--output", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stream-export: error:") and message in err and "\n" not in err
    assert not (tmp_path / "m.onnx").exists()


def test_a_config_with_a_bad_model_field_exits_2(small, tmp_path, capsys):
    import shutil

    checkpoint = tmp_path / "ckpt"
    shutil.copytree(small, checkpoint)
    data = json.loads((checkpoint / "config.json").read_text())
    data["model"]["V"] = 25  # unified_30 has 30 joints
    (checkpoint / "config.json").write_text(json.dumps(data))
    assert main(["--checkpoint", str(checkpoint), "--output", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert "V=25" in err and "\n" not in err


@pytest.mark.skipif(is_available("tensorrt"), reason="TensorRT is installed here")
def test_tensorrt_without_tensorrt_names_the_extra(small, tmp_path, capsys):
    assert main(["--checkpoint", small, "--output", str(tmp_path / "m.onnx"), "--tensorrt", "--fp16"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install skelstream[tensorrt]" in err and "\n" not in err
    assert not (tmp_path / "m.onnx").exists()  # failed before exporting


@pytest.mark.parametrize(
    "flags, message",
    [(["--int8", "--tensorrt"], "--calib-data"), (["--fp16"], "add --tensorrt"),
     (["--tensorrt", "--max-batch", "4", "--opt-batch", "8"], "--opt-batch")],
)  # fmt: skip
def test_inconsistent_flags_exit_2(small, tmp_path, capsys, flags, message):
    assert main(["--checkpoint", small, "--output", str(tmp_path / "m.onnx"), *flags]) == 2
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------- TensorRT: what needs no GPU


def test_engine_key_names_the_machine_and_settings(tmp_path):
    from models.export.tensorrt_build import EngineError, EngineKey, check_key, engine_path_for

    key = EngineKey("NVIDIA H100 80GB HBM3", "9.0", "10.7.0", "fp16", 64, 1, "ab" * 32)
    assert key.digest() == EngineKey(**vars(key)).digest() and len(key.digest()) == 12
    assert key.digest() != EngineKey("NVIDIA H100 80GB HBM3", "9.0", "10.7.0", "fp16", 32, 1, "ab" * 32).digest()
    path = engine_path_for(tmp_path / "dste.onnx", key)
    assert path.parent == tmp_path and path.name == f"dste.fp16.b64.{key.digest()}.engine"
    orin = EngineKey("Orin", "8.7", "10.3.0", "fp16", 64, 1, "ab" * 32)
    with pytest.raises(EngineError, match=r"built for GPU 'NVIDIA H100.*this machine: 'Orin'.*TensorRT '10.7.0'"):
        check_key(key, orin, path)
    check_key(key, key, path)  # same machine: fine


def test_sidecar_round_trip_and_malformed_sidecars(small, tmp_path):
    from models.checkpoint import read_config
    from models.export.tensorrt_build import EngineError, EngineKey, read_sidecar, sidecar_path, write_sidecar

    key = EngineKey("GPU", "8.6", "10.0.1", "int8", 16, 4, "cd" * 32)
    engine = tmp_path / "m.int8.b16.x.engine"
    write_sidecar(engine, key, read_config(small), extra={"onnx": "m.onnx"})
    stored, config, data = read_sidecar(engine)
    assert stored == key and config.labels == LABELS and data["onnx"] == "m.onnx"
    sidecar_path(engine).write_text('{"format": "something-else"}')
    with pytest.raises(EngineError, match="not a skelstream engine sidecar"):
        read_sidecar(engine)
    sidecar_path(engine).unlink()
    with pytest.raises(EngineError, match="no sidecar"):
        read_sidecar(engine)


def test_engine_options_are_validated():
    from models.export.tensorrt_build import EngineOptions

    with pytest.raises(ValueError, match="precision"):
        EngineOptions(precision="bf16")
    with pytest.raises(ValueError, match="opt_batch"):
        EngineOptions(max_batch=4, opt_batch=8)
    with pytest.raises(ValueError, match="calib_windows"):
        EngineOptions(precision="int8", calib_windows=np.zeros((2, 3, 64), np.float32))


def test_calibration_windows_are_real_model_windows(small, data_root, tmp_path):
    from models.checkpoint import read_config
    from models.export import ExportError
    from models.export.calibration import calibration_windows

    config = read_config(small)
    windows = calibration_windows("utkinect:1", config, data_root, max_windows=40)
    assert windows.shape == (40, 3, 64, 30, 2) and windows.dtype == np.float32
    assert np.isfinite(windows).all() and windows.std() > 0.1  # normalised real poses, not zeros
    np.save(tmp_path / "w.npy", windows[:5])
    assert calibration_windows(tmp_path / "w.npy", config).shape == (5, 3, 64, 30, 2)
    with pytest.raises(ExportError, match="integers"):
        calibration_windows("utkinect:one", config, data_root)
    with pytest.raises(ExportError, match="unknown dataset"):
        calibration_windows("kinetics", config, data_root)


# --------------------------------------------------------------------------- TensorRT: builds (GPU machines only)


@needs_tensorrt
def test_engine_is_cached_by_key_and_rebuilt_when_stale(small_onnx):
    from models.export.tensorrt_build import EngineOptions, ensure_engine, read_sidecar, sidecar_path

    options = EngineOptions(precision="fp16", max_batch=8)
    engine = ensure_engine(small_onnx, options)
    key, config, _ = read_sidecar(engine)
    assert config.labels == LABELS and key.precision == "fp16" and key.max_batch == 8
    built = engine.stat().st_mtime_ns
    assert ensure_engine(small_onnx, options) == engine and engine.stat().st_mtime_ns == built  # reused
    data = json.loads(sidecar_path(engine).read_text())
    data["key"]["tensorrt"] = "9.0.0"  # as if another TensorRT had built it
    sidecar_path(engine).write_text(json.dumps(data))
    assert ensure_engine(small_onnx, options) == engine and engine.stat().st_mtime_ns != built  # rebuilt


@needs_tensorrt
def test_an_engine_from_another_machine_is_refused(small_onnx):
    from models.export.tensorrt_build import EngineError, EngineOptions, check_engine, ensure_engine, sidecar_path

    engine = ensure_engine(small_onnx, EngineOptions(precision="fp16", max_batch=8))
    data = json.loads(sidecar_path(engine).read_text())
    data["key"]["gpu"], data["key"]["compute_capability"] = "Some Other GPU", "5.0"
    sidecar_path(engine).write_text(json.dumps(data))
    with pytest.raises(EngineError, match="Some Other GPU"):
        check_engine(engine)


@needs_onnx
def test_into_checkpoint_writes_the_runtime_onnx_that_checkpoint_onnx_prefers(small, tmp_path, capsys, caplog):
    import shutil

    from models.export.onnx_export import ONNXRUNTIME_OPSET, RUNTIME_ONNX, checkpoint_onnx, read_onnx_config

    checkpoint = tmp_path / "ckpt"
    shutil.copytree(small, checkpoint)
    assert main(["--checkpoint", str(checkpoint), "--into-checkpoint"]) == 0
    own = checkpoint / RUNTIME_ONNX
    out = capsys.readouterr().out
    assert f"wrote {own}" in out and "max |onnx - torch|" in out
    config, metadata = read_onnx_config(own)
    assert json.loads(metadata["skelstream.export"])["opset"] == ONNXRUNTIME_OPSET
    assert checkpoint_onnx(checkpoint, cache_dir=tmp_path / "cache") == own
    assert not (tmp_path / "cache").exists()
    data = json.loads((checkpoint / "config.json").read_text())
    (checkpoint / "config.json").write_text(json.dumps({**data, "fps": 30.0}))  # other weights or config: stale
    cached = checkpoint_onnx(checkpoint, cache_dir=tmp_path / "cache")
    assert cached != own and cached.is_relative_to(tmp_path / "cache")
    assert "was exported from other weights or another config" in caplog.text


@pytest.mark.parametrize("flags", [["--no-verify"], ["--opset", "18"], ["--output", "x.onnx"]])
def test_into_checkpoint_refuses_what_would_make_it_unverified_or_elsewhere(small, flags, capsys):
    with pytest.raises(SystemExit) if "--output" in flags else nullcontext():
        assert main(["--checkpoint", small, "--into-checkpoint", *flags]) == 2
    assert "--into-checkpoint" in capsys.readouterr().err
