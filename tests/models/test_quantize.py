"""Static INT8 (QDQ) quantisation with ONNX Runtime's tooling: the graph, its metadata, the backend running it."""

import json

import numpy as np
import pytest

from foundation.optional import is_available
from tests.conftest import variant_checkpoint


pytestmark = pytest.mark.skipif(not all(is_available(m) for m in ("onnx", "onnxruntime", "onnxscript")),
                                reason="the onnx extra is not installed: pip install -e '.[onnx]'")  # fmt: skip


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return variant_checkpoint(tmp_path_factory, "dste-small")


@pytest.fixture(scope="module")
def windows(small):
    """Calibration windows: smooth random motion, normalised like model input (a seeded stand-in for real data)."""
    from models.checkpoint import read_config

    shape = read_config(small).model.input_shape
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(scale=0.05, size=(48, *shape)), axis=2)  # correlated over time, as poses are
    return walk.astype(np.float32)


@pytest.fixture(scope="module")
def exported(small, windows, tmp_path_factory):
    from models.cli.export import main

    folder = tmp_path_factory.mktemp("int8")
    np.save(folder / "calib.npy", windows)
    assert main(["--checkpoint", small, "--output", str(folder / "m.onnx"), "--opset", "20", "--quantize", "int8",
                 "--calib-data", str(folder / "calib.npy"), "--calib-windows", "32"]) == 0  # fmt: skip
    return folder / "m.onnx", folder / "m.int8.onnx"


def test_the_int8_graph_is_qdq_on_matmul_and_gemm_and_keeps_the_config(small, exported):
    import onnx

    from models.checkpoint import read_config
    from models.export.onnx_export import read_onnx_config
    from models.export.quantize import META_QUANTIZATION, is_quantized

    fp32, int8 = exported
    assert is_quantized(int8) and not is_quantized(fp32)
    float_graph, graph = onnx.load(str(fp32)).graph, onnx.load(str(int8)).graph
    float_weights = {name for node in float_graph.node if node.op_type in ("MatMul", "Gemm") for name in node.input}
    weights = [init for init in graph.initializer if init.name.endswith("_quantized") and init.data_type == 3]  # int8
    assert weights and {w.name.removesuffix("_quantized") for w in weights} <= float_weights  # MatMul/Gemm only
    ops = [sorted(node.op_type for node in g.node if node.op_type in ("LayerNormalization", "Softmax", "Gelu"))
           for g in (float_graph, graph)]
    assert ops[0] == ops[1]  # the rest stays float
    zero_points = [init for init in graph.initializer if init.name.endswith("zero_point")]
    assert zero_points and all(not onnx.numpy_helper.to_array(z).any() for z in zero_points)  # symmetric
    assert {onnx.numpy_helper.to_array(z).dtype for z in zero_points} <= {np.dtype(np.int8), np.dtype(np.int32)}
    config, metadata = read_onnx_config(int8)
    assert config.to_dict() == read_config(small).to_dict()
    recipe = json.loads(metadata[META_QUANTIZATION])
    assert recipe["windows"] == 32 and recipe["calibration"].endswith("calib.npy") and recipe["format"] == "QDQ"


def test_the_onnxruntime_backend_runs_int8_close_to_fp32(exported, windows):
    from stream.backends import make_backend

    fp32_path, int8_path = exported
    fp32 = make_backend("onnxruntime", fp32_path, threads=2)
    for threads in (1, 2):  # one session; the two streams in parallel (the QDQ graph splits like the float one)
        int8 = make_backend("onnxruntime", int8_path, threads=threads, precision="int8")
        assert int8.precision == "int8" and int8.concurrent_streams == (threads == 2)
        expected, actual = fp32.run(windows[:4]), int8.run(windows[:4])
        assert actual.shape == expected.shape and np.isfinite(actual).all()
        assert np.abs(actual - expected).max() < 0.1 * np.abs(expected).max()  # quantised, not broken
        assert not np.array_equal(actual, expected)  # and really quantised


def test_a_precision_that_does_not_match_the_graph_is_one_clear_error(exported):
    from models.checkpoint import CheckpointError
    from stream.backends import make_backend

    fp32_path, int8_path = exported
    with pytest.raises(CheckpointError, match="not an INT8"):
        make_backend("onnxruntime", fp32_path, precision="int8")
    with pytest.raises(CheckpointError, match="is an INT8"):
        make_backend("onnxruntime", int8_path, precision="fp32")


def test_a_checkpoint_directory_is_quantised_once_into_the_cache(small, windows, tmp_path):
    from models.export.quantize import cached_int8_onnx

    np.save(tmp_path / "calib.npy", windows)
    first = cached_int8_onnx(small, tmp_path / "cache", calibration=str(tmp_path / "calib.npy"), max_windows=16)
    stamp = first.stat().st_mtime_ns
    again = cached_int8_onnx(small, tmp_path / "cache", calibration=str(tmp_path / "calib.npy"), max_windows=16)
    assert again == first and again.stat().st_mtime_ns == stamp  # not quantised twice


def test_a_checkpoint_without_training_data_needs_calibration_data(small, tmp_path):
    from models.export import ExportError
    from models.export.quantize import cached_int8_onnx

    with pytest.raises(ExportError, match="no training data"):
        cached_int8_onnx(small, tmp_path)  # the variant checkpoint records no training data


def test_training_data_is_the_default_calibration(data_root):
    from models.checkpoint import read_config
    from models.export.quantize import training_calibration_source
    from models.pretrained import DEFAULT_CHECKPOINT

    config = read_config(DEFAULT_CHECKPOINT)
    assert training_calibration_source(config) == config.training["config"]["train"][0] == "utkinect"
