"""The latency benchmark names a checkpoint built at another size than its variant by its size."""

from benchmarks.model_latency import checkpoint_label, goals
from models.checkpoint import CheckpointConfig
from models.dste_config import DSTE_VARIANTS, DSTEConfig


def _config(**overrides):
    model = DSTEConfig.from_dict({**DSTE_VARIANTS["dste-small"].to_dict(), "num_classes": 3, **overrides})
    return CheckpointConfig(model=model, task="detection", labels=["background", "a", "b"], fps=15.0,
                            variant="dste-small")  # fmt: skip


def test_a_wider_checkpoint_is_labelled_by_its_size_and_not_judged_as_the_variant():
    assert checkpoint_label(_config()) == "dste-small"
    wide = checkpoint_label(_config(dim=256))
    assert wide == "dste-small d=256x2"
    rows = [{"variant": wide, "backend": b, "batch": 1, "median_ms": 1.0} for b in ("onnxruntime", "torch")]
    assert goals(rows)["cpu"]["met"] is None  # a d=256 model's figure never stands for dste-small's goal
