"""DSTE encoder and dense detector: shapes, gradients, modalities, input checks, DSA/CA details."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from models.dste import (
    ConvAttention,
    DenseFeatures,
    DenseShift,
    DropPath,
    DSTEDetector,
    DSTEEncoder,
    DSTELayer,
    create_model,
)
from models.dste_config import DSTE_VARIANTS, FRAME_FEATURES, DSTEConfig
from models.modalities import to_modality
from models.skeleton.layouts import get_layout

# A small config: same architecture, a few thousand parameters per layer.
TINY = dict(dim=16, depth=2, heads=2, T=8, num_classes=5, drop_path=0.0)


def tiny(**overrides) -> DSTEDetector:
    torch.manual_seed(0)
    return create_model("dste-small", **{**TINY, **overrides})


def window(n: int, cfg: DSTEConfig, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, *cfg.input_shape, generator=g)


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("layout", "V", "M"),
    [("unified_30", 30, 2), ("unified_30", 30, 1), ("kinect_v2_25", 25, 2), ("kinect_v2_25", 25, 1)],
)
def test_small_shapes(layout: str, V: int, M: int) -> None:
    model = create_model("dste-small", layout=layout, M=M, num_classes=7).eval()
    assert model.cfg.V == V
    x = window(3, model.cfg)
    with torch.no_grad():
        feats = model.forward_features(x)
        logits = model.forward_head(feats)
    d = model.cfg.dim
    assert isinstance(feats, DenseFeatures)
    assert feats.temporal.shape == (3, 64, d)
    assert feats.spatial.shape == (3, M * V, d)
    assert feats.global_.shape == (3, 2 * d)
    torch.testing.assert_close(feats.global_, torch.cat([feats.temporal.amax(1), feats.spatial.amax(1)], -1))
    assert logits.shape == (3, 64, 7)
    with torch.no_grad():
        torch.testing.assert_close(model(x), logits)


def test_base_shapes() -> None:
    model = create_model("dste-base", num_classes=52).eval()
    cfg = model.cfg
    assert (cfg.dim, cfg.depth, cfg.heads, cfg.mlp_ratio, cfg.drop_path, cfg.T) == (1024, 2, 1, 2.0, 0.1, 64)
    with torch.no_grad():
        feats = model.forward_features(window(1, cfg))
        logits = model.forward_head(feats)
    assert feats.temporal.shape == (1, 64, 1024)
    assert feats.spatial.shape == (1, 60, 1024)
    assert feats.global_.shape == (1, 2048)
    assert logits.shape == (1, 64, 52)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("frame_feature", FRAME_FEATURES)
def test_frame_features(frame_feature: str) -> None:
    """Frame t's feature is its temporal token, followed (the spatial variants) by a summary of the spatial stream
    that differs from frame to frame; ``temporal`` ignores the spatial stream."""
    model = tiny(frame_feature=frame_feature).eval()
    dim = model.cfg.dim
    with torch.no_grad():
        feats = model.forward_features(window(2, model.cfg))
        noise = torch.randn(feats.spatial.shape, generator=torch.Generator().manual_seed(1))
        moved = feats._replace(spatial=feats.spatial + noise)  # not a constant: the summaries normalise that away
        frame, frame_moved = model.frame_features(feats), model.frame_features(moved)
        logits, logits_moved = model.forward_head(feats), model.forward_head(moved)
    assert frame.shape == (2, 8, model.num_features) and logits.shape == (2, 8, 5)
    torch.testing.assert_close(frame[..., :dim], feats.temporal, rtol=0, atol=0)  # the temporal token itself
    summary, summary_moved = frame[..., dim:], frame_moved[..., dim:]
    if frame_feature == "temporal":
        assert model.num_features == dim and torch.equal(logits, logits_moved)
        return
    assert summary.shape[-1] == model.num_features - dim > 0
    assert not torch.allclose(summary, summary_moved) and not torch.allclose(logits, logits_moved)
    assert not torch.allclose(summary[:, 0], summary[:, 1])  # per frame, not one vector broadcast over time


def test_spatial_summary_is_per_frame() -> None:
    """With ``temporal+spatial`` the spatial stream changes the logits, frame by frame differently."""
    model = tiny(frame_feature="temporal+spatial").eval()
    with torch.no_grad():
        feats = model.forward_features(window(1, model.cfg))
        summary = model.frame_pool(feats.temporal, feats.spatial)
        other = model.frame_pool(feats.temporal, feats.spatial + 1.0)
    assert summary.shape == (1, 8, model.cfg.frame_spatial_dim)
    assert not torch.allclose(summary[:, 0], summary[:, 1])  # not one vector broadcast over time
    assert not torch.allclose(summary, other)


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("frame_feature", FRAME_FEATURES)
def test_gradients_reach_every_parameter(frame_feature: str) -> None:
    model = tiny(frame_feature=frame_feature).train()  # drop_path 0: a dropped branch gets no gradient
    logits = model(window(2, model.cfg))
    logits.square().mean().backward()
    for name, param in model.named_parameters():
        if frame_feature == "temporal" and name.startswith("encoder.spatial."):
            continue  # by design: the temporal-only head does not read the spatial stream
        assert param.grad is not None, f"{name} got no gradient"
        assert param.grad.abs().sum() > 0, f"{name} got a zero gradient"


def test_global_feature_trains_spatial_stream() -> None:
    encoder = tiny(frame_feature="temporal").encoder
    encoder(window(2, encoder.cfg)).global_.sum().backward()
    for name, param in encoder.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_attention_is_shared_and_stored_once() -> None:
    model = tiny()
    layer = model.encoder.temporal.layers[0]
    assert isinstance(layer, DSTELayer)
    keys = [k for k in model.state_dict() if k.startswith("encoder.temporal.layers.0.") and ".qkv." in k]
    assert keys == ["encoder.temporal.layers.0.attn.qkv.weight", "encoder.temporal.layers.0.attn.qkv.bias"]
    # the attention really drives both branches: zeroing its output projection changes CA and DSA alike
    x = torch.randn(1, 8, 16)
    with torch.no_grad():
        ca, dsa = layer.ca(x, layer.attn), layer.dsa(x, layer.attn)
        layer.attn.proj.weight.zero_()
        layer.attn.proj.bias.zero_()
        assert not torch.allclose(layer.ca(x, layer.attn), ca)
        assert not torch.allclose(layer.dsa(x, layer.attn), dsa)


# --------------------------------------------------------------------------- modalities


def test_modality_manual_computation() -> None:
    x = torch.randn(2, 3, 5, 30, 2)
    parents = get_layout("unified_30").parent_indices
    assert to_modality(x, "joint") is x
    motion = to_modality(x, "motion")
    expected = torch.zeros_like(x)
    for t in range(4):
        expected[:, :, t] = x[:, :, t + 1] - x[:, :, t]
    torch.testing.assert_close(motion, expected)
    bone = to_modality(x, "bone", parents)
    expected = torch.stack([x[:, :, :, v] - x[:, :, :, int(parents[v])] for v in range(30)], dim=3)
    torch.testing.assert_close(bone, expected)
    assert bone[:, :, :, 0].abs().max() == 0  # spine_base is the root
    with pytest.raises(ValueError, match="parent"):
        to_modality(x, "bone")
    with pytest.raises(ValueError, match="unknown modality"):
        to_modality(x, "velocity")


@pytest.mark.parametrize("modality", ["motion", "bone"])
def test_modality_reaches_the_encoder(modality: str) -> None:
    joint = tiny(modality="joint").eval()
    other = tiny(modality=modality).eval()
    other.load_state_dict(joint.state_dict())  # same weights, only the modality differs
    x = window(2, joint.cfg)
    parents = get_layout(joint.cfg.layout).parent_indices
    with torch.no_grad():
        out_other = other(x)
        assert not torch.allclose(joint(x), out_other)
        torch.testing.assert_close(out_other, joint(to_modality(x, modality, parents)))


def test_forward_does_not_modify_input() -> None:
    model = tiny(modality="motion").eval()
    x = window(1, model.cfg)
    before = x.clone()
    with torch.no_grad():
        model(x)
    torch.testing.assert_close(x, before)


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize(("dim_index", "bad"), [(2, 7), (3, 25), (4, 1), (1, 2)])
def test_wrong_window_raises(dim_index: int, bad: int) -> None:
    model = tiny().eval()
    shape = [2, *model.cfg.input_shape]
    shape[dim_index] = bad
    with pytest.raises(ValueError, match=r"expects windows of shape \(N, C=3, T=8, V=30, M=2\), got"):
        model(torch.zeros(shape))


def test_wrong_rank_raises() -> None:
    with pytest.raises(ValueError, match="expects windows"):
        tiny()(torch.zeros(3, 8, 30, 2))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(dim=30, heads=4), "divisible by heads"),
        (dict(dim=15, heads=1), "even"),
        (dict(modality="velocity"), "unknown modality"),
        (dict(frame_feature="spatial"), "unknown frame_feature"),
        (dict(num_classes=1), "background"),
        (dict(V=25), "has 30 joints"),
        (dict(layout="nope"), "unknown layout"),
        (dict(depth=0), "depth must be a positive integer"),
        (dict(drop_path=1.0), "drop_path"),
        (dict(conv_kernel=2), "odd"),
    ],
)
def test_config_validation(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DSTEConfig(**{**TINY, **overrides})


def test_create_model_overrides_and_variants() -> None:
    assert set(DSTE_VARIANTS) == {"dste-base", "dste-small"}
    small, base = DSTE_VARIANTS["dste-small"], DSTE_VARIANTS["dste-base"]
    same = {"depth", "heads", "mlp_ratio", "drop_path", "T", "M", "C", "shift_gap", "conv_kernel"}
    assert all(getattr(small, f) == getattr(base, f) for f in same)  # same architecture, smaller width
    model = create_model("dste-small", layout="kinect_v2_25", num_classes=61)
    assert model.cfg.V == 25 and model.cfg.num_classes == 61
    assert DSTEConfig.from_dict(model.cfg.to_dict()) == model.cfg
    with pytest.raises(ValueError, match="unknown DSTE variant"):
        create_model("dste-huge")
    with pytest.raises(ValueError, match="unknown DSTEConfig keys"):
        create_model("dste-small", width=3)


def test_reset_classifier() -> None:
    model = tiny()
    model.reset_classifier(3)
    assert model(window(1, model.cfg)).shape == (1, 8, 3)
    assert model.cfg.num_classes == 3


# --------------------------------------------------------------------------- DSA and CA


def test_dense_shift_restores_every_fourth_token() -> None:
    torch.manual_seed(0)
    shift = DenseShift(num_tokens=10, gap=4)
    x = torch.randn(2, 10, 6)
    out = shift(x)
    kept = torch.tensor([0, 4, 8])
    mixed = torch.tensor([1, 2, 3, 5, 6, 7, 9])
    torch.testing.assert_close(out[:, kept], x[:, kept])
    assert (out[:, mixed] - x[:, mixed]).abs().amin(dim=-1).gt(0).all()
    # the mixed tokens are the residual token-mixing MLP along the token axis
    f = x.transpose(1, 2)
    expected = (f + shift.fc2(torch.relu(shift.fc1(f)))).transpose(1, 2)
    torch.testing.assert_close(out[:, mixed], expected[:, mixed])


def test_conv_attention_keeps_its_residual() -> None:
    torch.manual_seed(0)
    layer = DSTELayer(num_tokens=8, dim=16, heads=2, mlp_ratio=2.0, drop_path=0.0, gap=4, kernel_size=1)
    ca: ConvAttention = layer.ca
    with torch.no_grad():
        for linear in (ca.conv, layer.attn.proj, ca.mlp.fc2):
            linear.weight.zero_()
            linear.bias.zero_()
    x = torch.randn(3, 8, 16)
    torch.testing.assert_close(ca(x, layer.attn), x)


def test_eval_is_deterministic_and_drop_path_trains() -> None:
    model = tiny(drop_path=0.5)
    x = window(4, model.cfg)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x))
        model.train()
        torch.manual_seed(1)
        a = model(x)
        torch.manual_seed(2)
        b = model(x)
    assert not torch.allclose(a, b)


def test_encoder_standalone_and_batch_independence() -> None:
    cfg = DSTEConfig(**{**TINY, "V": None})
    encoder = DSTEEncoder(cfg).eval()
    x = window(3, cfg)
    with torch.no_grad():
        whole = encoder(x)
        single = encoder(x[1:2])
    for a, b in zip(whole, single):
        torch.testing.assert_close(a[1:2], b, rtol=1e-5, atol=1e-5)


def test_exports_with_dynamic_batch() -> None:
    from torch.export import Dim, export

    model = tiny(modality="bone").eval()
    exported = export(model, (window(2, model.cfg),), dynamic_shapes=({0: Dim("batch", min=1, max=64)},))
    x = window(5, model.cfg, seed=3)
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(x), model(x))


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DSTE_VARIANTS["dste-small"].dim = 3  # type: ignore[misc]


# --------------------------------------------------------------------------- the plain formulation


def plain_attention(attn, x: torch.Tensor) -> torch.Tensor:
    n, length, dim = x.shape
    q, k, v = attn.qkv(x).reshape(n, length, 3, attn.heads, attn.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
    weights = ((q * attn.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
    return attn.proj((weights @ v).transpose(1, 2).reshape(n, length, dim))


def plain_layer(layer: DSTELayer, x: torch.Tensor, gap: int) -> torch.Tensor:
    """One DSTE layer as DESIGN.md §3 writes it: tokens transposed for the Conv1d and the token mixing, a select
    for the kept tokens, the DSA block run on the shifted and the plain tokens separately, then averaged."""
    ca, dsa, shift = layer.ca, layer.dsa, layer.dsa.shift
    h = x + ca.act(ca.conv(x.transpose(1, 2))).transpose(1, 2)
    h = h + plain_attention(layer.attn, ca.norm1(h))
    h = h + ca.mlp(ca.norm2(h))
    f = x.transpose(1, 2)
    mixed = (f + shift.fc2(shift.act(shift.fc1(f)))).transpose(1, 2)
    keep = (torch.arange(x.shape[1]) % gap == 0).view(1, -1, 1)
    branches = []
    for z in (torch.where(keep, x, mixed), x):
        z = z + plain_attention(layer.attn, dsa.norm1(z))
        branches.append(z + dsa.mlp(dsa.norm2(z)))
    return 0.5 * h + 0.5 * (branches[0] + branches[1]) / 2


def plain_forward(model: DSTEDetector, x: torch.Tensor) -> torch.Tensor:
    """The detector's logits computed with 3-D Linears and the plain layer above: the reference the optimised
    modules (2-D GEMMs, no transposes, masked weights) must reproduce."""
    cfg, encoder = model.cfg, model.encoder

    def stream(module, tokens):
        z = module.embed(tokens)
        for layer in module.layers:
            z = plain_layer(layer, z + module.pos_embed, cfg.shift_gap)
        return z

    temporal_tokens, spatial_tokens = encoder.tokens(to_modality(x, cfg.modality, encoder.parents))
    temporal, spatial = stream(encoder.temporal, temporal_tokens), stream(encoder.spatial, spatial_tokens)
    if cfg.frame_feature == "temporal":
        features = temporal
    elif cfg.frame_feature == "temporal+spatial":
        pool = model.frame_pool
        unfolded = pool.unfold(pool.norm(spatial)).reshape(x.shape[0], spatial.shape[1], cfg.T, pool.k)
        features = torch.cat([temporal, unfolded.amax(dim=1)], dim=-1)
    else:
        features = torch.cat([temporal, model.frame_pool(temporal, spatial)], dim=-1)
    return model.head(model.head_norm(features))


@pytest.mark.parametrize(
    "overrides",
    [{}, {"heads": 1}, {"conv_kernel": 3}, {"frame_feature": "temporal"}, {"frame_feature": "temporal+spatial_attn"},
     {"modality": "bone", "shift_gap": 3}],
)  # fmt: skip
def test_matches_the_plain_formulation(overrides: dict) -> None:
    model = tiny(**overrides).eval()
    with torch.no_grad():
        for module in model.modules():  # non-zero biases and LayerNorm affines, so every term is checked
            if isinstance(module, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.LayerNorm)):
                torch.nn.init.normal_(module.bias, std=0.1)
            if isinstance(module, torch.nn.LayerNorm):
                torch.nn.init.normal_(module.weight, mean=1.0, std=0.1)
        x = window(3, model.cfg)
        torch.testing.assert_close(model(x), plain_forward(model, x), rtol=1e-5, atol=1e-5)


def test_shipped_checkpoint_matches_the_plain_formulation() -> None:
    from models.checkpoint import load_checkpoint

    model, config = load_checkpoint(Path(__file__).resolve().parents[2] / "models/checkpoints/actions")
    x = window(4, config.model, seed=5)
    with torch.no_grad():
        expected = plain_forward(model, x)
        error = (model(x) - expected).abs().max().item()
    assert error <= 2e-5, error  # the bound the ONNX Runtime backend keeps against torch


def test_drop_path_drops_whole_samples_of_token_rows() -> None:
    drop = DropPath(0.5).train()
    torch.manual_seed(0)
    rows = drop(torch.ones(16 * 5, 3), tokens=5).view(16, 5, 3)  # 16 samples of 5 token rows
    per_sample = rows.flatten(1)
    assert set(per_sample.unique().tolist()) == {0.0, 2.0}
    assert (per_sample == per_sample[:, :1]).all()  # a sample's rows are kept or dropped together
    assert 0 < (per_sample[:, 0] == 0).sum() < 16
