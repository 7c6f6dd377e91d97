"""DSTE: the Dense Spatio-Temporal Encoder of USDRL, with a per-frame detection head.

Paper: W. Weng, H. Wang, J. Wang, L. He, G. Xie, "USDRL: Unified
Skeleton-Based Dense Representation Learning with Multi-Grained Feature
Decorrelation", AAAI 2025. Official code: https://github.com/wengwanjiang/USDRL
(``model/DSTE.py``); its detection experiments live in a separate codebase.

A window (N, C, T, V, M) becomes two token sets, each run by its own stream of
DSTE layers:

- temporal tokens (N, T, M·V·C), one per frame, with fixed sinusoidal positions;
- spatial tokens (N, M·V, T·C), one per joint of each body, with learned
  positions (trunc-normal, std 0.02).

A DSTE layer is ``0.5 · CA(x) + 0.5 · DSA(x)``; both branches call one shared
attention module:

- DSA (dense shift attention): a token-mixing residual MLP over the token axis
  (Linear(L, L) → ReLU → Linear(L, L)), every ``gap``-th token restored to its
  unmixed value; then the same pre-norm attention + MLP block runs on the mixed
  and on the plain tokens and the two results are averaged;
- CA (convolutional attention): ``x + ReLU(Conv1d(x))``, then pre-norm attention
  with a residual, then a pre-norm MLP with a residual.

Deliberate differences from the official code (see DESIGN.md §3):

- the modality transform (joint / motion / bone) runs inside
  :meth:`DSTEEncoder.forward`, chosen by the config; officially the option never
  reached the model, which always saw joints;
- CA keeps its residuals: officially it returned ``MLP(norm(h))`` alone, and its
  attention residual skipped the conv branch (``attn(norm(h)) + x``);
- per-frame features are built per frame (see :class:`DSTEDetector`); officially
  the 50 joint tokens were average-pooled to 64 "frames" as if they were time;
- depth, heads, MLP ratio, DropPath and sizes come from :class:`DSTEConfig`
  (officially two layers per stream were hard-coded, DropPath 0.1 fixed).

How it is computed (the same values, in fewer and larger kernels; what makes
the ONNX export fast on a CPU at batch 1): token-wise work (Linear, LayerNorm,
GELU, residuals) runs on (N·L, d) rows, so every Linear is one 2-D GEMM (an
ONNX ``Gemm`` with its bias); CA's Conv1d of kernel 1 is that GEMM on the
conv's own weights; DSA mixes tokens by multiplying with W from the left
instead of transposing them, and keeps every ``gap``-th token by zeroing its
row of W2 (an update of exactly 0) instead of a select; single-head attention
splits q, k, v without moving a head axis. The parameters and their names are
those of the plain formulation; ``tests/models/test_dste.py`` checks the two
agree, on the shipped checkpoint too.

The token-mixing Linear(L, L) fixes the number of tokens (L = T temporal,
L = M·V spatial), so windows are exactly T frames of V joints and M bodies;
anything else raises ``ValueError``. Forward passes have no data-dependent
Python control flow and no in-place ops on inputs, so the detector exports with
``torch.onnx.export(..., dynamo=True)`` and a dynamic batch.

    >>> model = create_model("dste-small", num_classes=52).eval()
    >>> logits = model(torch.randn(2, 3, 64, 30, 2))     # (N, T, K + 1), class 0 = background
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from models.dste_config import DSTE_VARIANTS, DSTEConfig
from models.missing_joints import MissingJointPrompts
from models.modalities import as_parent_tensor, to_modality
from models.skeleton.layouts import get_layout

__all__ = [
    "Attention",
    "ConvAttention",
    "DenseFeatures",
    "DenseShift",
    "DenseShiftAttention",
    "DropPath",
    "DSTEDetector",
    "DSTEEncoder",
    "DSTELayer",
    "DSTEStream",
    "Mlp",
    "create_model",
    "sinusoidal_positions",
]

# --------------------------------------------------------------------------- blocks


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch per sample while training.

    ``x`` is (N, ...) with one sample per row, or (N·tokens, ...) token rows of N
    samples (``tokens`` rows each), as the blocks below pass them.
    """

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor, tokens: int = 1) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        samples = x.unflatten(0, (-1, tokens))
        mask = x.new_empty((samples.shape[0],) + (1,) * (samples.ndim - 1)).bernoulli_(keep)
        return (samples * mask / keep).flatten(0, 1)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


class Mlp(nn.Module):
    """Linear → GELU → Linear."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head self-attention over token rows (N·L, d), plain matmuls (exporter-friendly).

    One instance is shared by the CA and DSA branches of a :class:`DSTELayer`; the
    branches receive it as a forward argument rather than owning it, so its
    weights appear once in the state dict (safetensors refuses shared tensors).
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, length: int) -> torch.Tensor:
        """Attention within each sample's ``length`` consecutive rows of ``x`` (N·L, d) → (N·L, d)."""
        dim = x.shape[-1]
        qkv = self.qkv(x).view(-1, length, 3 * dim)
        if self.heads == 1:
            q, k, v = qkv.split(dim, dim=-1)  # each (N, L, d): no head axis to move
        else:
            q, k, v = qkv.view(-1, length, 3 * self.heads, self.head_dim).transpose(1, 2).split(self.heads, dim=1)
        out = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1) @ v
        if self.heads > 1:
            out = out.transpose(1, 2)
        return self.proj(out.reshape(-1, dim))


class DenseShift(nn.Module):
    """The "dense shift" of DSA: a residual token-mixing MLP, every ``gap``-th token kept.

    ``h = x + W2 · ReLU(W1 · x)`` mixes along the token axis (W1, W2 are L×L, so L
    is fixed); tokens whose index is a multiple of ``gap`` keep their input values,
    the others take the mixed values. Keeping a token is computed by zeroing its
    row of W2 and its entry of the second bias (its residual update is then
    exactly 0): the same values as selecting ``x``, without transposing the tokens
    or a select op.
    """

    def __init__(self, num_tokens: int, gap: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(num_tokens, num_tokens)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(num_tokens, num_tokens)
        mixed = (torch.arange(num_tokens) % gap != 0).float().unsqueeze(1)  # (L, 1): 0 for kept tokens
        self.register_buffer("mixed", mixed, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, d) → (N, L, d), mixing along L (W · x with x's token axis as rows)."""
        hidden = self.act(torch.matmul(self.fc1.weight, x) + self.fc1.bias.unsqueeze(1))
        update = torch.matmul(self.fc2.weight * self.mixed, hidden) + self.fc2.bias.unsqueeze(1) * self.mixed
        return x + update


class DenseShiftAttention(nn.Module):
    """DSA: one pre-norm attention + MLP block on the shifted and on the plain tokens, averaged."""

    def __init__(self, num_tokens: int, dim: int, mlp_ratio: float, drop_path: float, gap: int) -> None:
        super().__init__()
        self.shift = DenseShift(num_tokens, gap)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, attn: Attention) -> torch.Tensor:
        """(N, L, d) → (N, L, d)."""
        _, length, dim = x.shape
        # Both inputs run through the same weights; one call on a doubled batch
        # halves the kernel launches (what matters at batch 1 on a CPU). Token-wise
        # work runs on (2N·L, d) rows: each Linear is one 2-D GEMM.
        z = torch.cat([self.shift(x), x], dim=0).view(-1, dim)
        z = z + self.drop_path(attn(self.norm1(z), length), length)
        z = z + self.drop_path(self.mlp(self.norm2(z)), length)
        shifted, plain = z.view(2, -1, dim).unbind(0)
        return ((shifted + plain) * 0.5).view(-1, length, dim)


class ConvAttention(nn.Module):
    """CA: ``h = x + ReLU(Conv1d(x))``, then pre-norm attention and MLP, each with its residual.

    The paper's kernel size 1 makes the Conv1d a per-token Linear, computed as one
    (N·L, d) GEMM with the conv's own weights.
    """

    def __init__(self, dim: int, mlp_ratio: float, drop_path: float, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)
        self.act = nn.ReLU()
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, attn: Attention) -> torch.Tensor:
        """(N, L, d) → (N, L, d)."""
        _, length, dim = x.shape
        if self.conv.kernel_size[0] == 1:
            x = x.reshape(-1, dim)
            h = x + self.act(nn.functional.linear(x, self.conv.weight[:, :, 0], self.conv.bias))
        else:
            h = (x + self.act(self.conv(x.transpose(1, 2))).transpose(1, 2)).reshape(-1, dim)
        h = h + self.drop_path(attn(self.norm1(h), length), length)
        h = h + self.drop_path(self.mlp(self.norm2(h)), length)
        return h.view(-1, length, dim)


class DSTELayer(nn.Module):
    """``0.5 · CA(x) + 0.5 · DSA(x)`` with one attention module shared by both branches."""

    def __init__(
        self,
        num_tokens: int,
        dim: int,
        heads: int,
        mlp_ratio: float,
        drop_path: float,
        gap: int,
        kernel_size: int,
    ) -> None:
        super().__init__()
        self.attn = Attention(dim, heads)
        self.ca = ConvAttention(dim, mlp_ratio, drop_path, kernel_size)
        self.dsa = DenseShiftAttention(num_tokens, dim, mlp_ratio, drop_path, gap)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.ca(x, self.attn) + self.dsa(x, self.attn)) * 0.5


# --------------------------------------------------------------------------- streams


def sinusoidal_positions(num_tokens: int, dim: int) -> torch.Tensor:
    """(1, num_tokens, dim) fixed positions: sin on even channels, cos on odd (Vaswani et al.)."""
    position = torch.arange(num_tokens, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(1, num_tokens, dim)
    pe[0, :, 0::2] = torch.sin(position * div)
    pe[0, :, 1::2] = torch.cos(position * div)
    return pe


class DSTEStream(nn.Module):
    """Embedding Linear(in, d) → LayerNorm → ReLU → Linear(d, d), then DSTE layers.

    The positions are added before every layer. ``positions="sinusoidal"`` (the
    temporal stream) is a fixed buffer; ``"learned"`` (the spatial stream) a
    parameter initialised trunc-normal with std 0.02.
    """

    def __init__(
        self,
        in_features: int,
        num_tokens: int,
        dim: int,
        depth: int,
        heads: int,
        mlp_ratio: float,
        drop_path: float,
        gap: int,
        kernel_size: int,
        positions: str,
    ) -> None:
        super().__init__()
        self.embed = nn.Sequential(
            nn.Linear(in_features, dim), nn.LayerNorm(dim), nn.ReLU(), nn.Linear(dim, dim)
        )
        if positions == "sinusoidal":
            self.register_buffer("pos_embed", sinusoidal_positions(num_tokens, dim), persistent=False)
        elif positions == "learned":
            self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens, dim))
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        else:
            raise ValueError(f"positions must be 'sinusoidal' or 'learned', got {positions!r}")
        self.layers = nn.ModuleList(
            DSTELayer(num_tokens, dim, heads, mlp_ratio, drop_path, gap, kernel_size) for _ in range(depth)
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(N, L, in_features) tokens → (N, L, d)."""
        _, length, features = tokens.shape
        x = self.embed(tokens.reshape(-1, features)).view(-1, length, self.pos_embed.shape[-1])
        for layer in self.layers:
            x = layer(x + self.pos_embed)
        return x


# --------------------------------------------------------------------------- encoder


class DenseFeatures(NamedTuple):
    """Outputs of :class:`DSTEEncoder`.

    ``global_`` is the paper's global (instance) feature; the trailing underscore
    only because ``global`` is a Python keyword.
    """

    temporal: torch.Tensor  # (N, T, d): one token per frame
    spatial: torch.Tensor  # (N, M·V, d): one token per joint of each body (body-major)
    global_: torch.Tensor  # (N, 2d): max over tokens of each stream, concatenated [temporal, spatial]


def _init_weights(module: nn.Module) -> None:
    """Official init: Linear trunc-normal std 0.02 with zero bias, LayerNorm (1, 0)."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class DSTEEncoder(nn.Module):
    """Joint windows (N, C, T, V, M) → :class:`DenseFeatures`.

    The config's modality is applied first, inside ``forward``.
    """

    def __init__(self, cfg: DSTEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.dim = cfg.dim
        self.num_features = 2 * cfg.dim
        parents = as_parent_tensor(get_layout(cfg.layout).parent_indices, cfg.V)
        self.register_buffer("parents", parents, persistent=False)
        common = dict(
            dim=cfg.dim,
            depth=cfg.depth,
            heads=cfg.heads,
            mlp_ratio=cfg.mlp_ratio,
            drop_path=cfg.drop_path,
            gap=cfg.shift_gap,
            kernel_size=cfg.conv_kernel,
        )
        self.temporal = DSTEStream(cfg.M * cfg.V * cfg.C, cfg.T, positions="sinusoidal", **common)
        self.spatial = DSTEStream(cfg.T * cfg.C, cfg.M * cfg.V, positions="learned", **common)
        self.apply(_init_weights)

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` unless ``x`` is an (N, C, T, V, M) window of the configured size."""
        expected = self.cfg.input_shape
        if x.ndim != 5 or tuple(x.shape[1:]) != expected:
            c, t, v, m = expected
            raise ValueError(
                f"DSTE expects windows of shape (N, C={c}, T={t}, V={v}, M={m}), got {tuple(x.shape)}; "
                "T, V and M are fixed by the token-mixing Linear(L, L) layers "
                "(pad a short track by repeating its first frame, pad missing bodies with zeros)"
            )

    def tokens(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Temporal (N, T, M·V·C) and spatial (N, M·V, T·C) tokens of an (N, C, T, V, M) window."""
        n, c, t, v, m = x.shape
        temporal = x.permute(0, 2, 4, 3, 1).reshape(n, t, m * v * c)
        spatial = x.permute(0, 4, 3, 2, 1).reshape(n, m * v, t * c)
        return temporal, spatial

    def forward(self, x: torch.Tensor, modality: str | None = None) -> DenseFeatures:
        """Dense features of joint windows; ``modality`` overrides the config's (multi-modal pretraining)."""
        self.check_input(x)
        x = to_modality(x, modality or self.cfg.modality, self.parents)
        temporal_tokens, spatial_tokens = self.tokens(x)
        temporal = self.temporal(temporal_tokens)
        spatial = self.spatial(spatial_tokens)
        pooled = torch.cat([temporal.amax(dim=1), spatial.amax(dim=1)], dim=-1)
        return DenseFeatures(temporal, spatial, pooled)


# --------------------------------------------------------------------------- detector


class SpatialUnfold(nn.Module):
    """Per-frame spatial summary: each joint token unfolded back to time, pooled over joints.

    A spatial token saw its joint's whole trajectory (its input was T·C values), so
    a Linear(d, T·k) can decode it into k features for each frame; reshaped to
    (N, M·V, T, k) and max-pooled over the M·V joint tokens this gives (N, T, k):
    frame t gets information about frame t from every joint. Max (not mean)
    matches the encoder's global pooling, does not care which body slot a person
    is in, and is not diluted by the zero-padded slot of an absent second body.
    """

    def __init__(self, dim: int, num_frames: int, k: int) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.k = k
        self.norm = nn.LayerNorm(dim)
        self.unfold = nn.Linear(dim, num_frames * k)

    def forward(self, temporal: torch.Tensor, spatial: torch.Tensor) -> torch.Tensor:
        _, joints, dim = spatial.shape
        per_frame = self.unfold(self.norm(spatial.reshape(-1, dim))).view(-1, joints, self.num_frames * self.k)
        return per_frame.amax(dim=1).view(-1, self.num_frames, self.k)


class SpatialAttentionPool(nn.Module):
    """Per-frame spatial summary by cross-attention: frame t's temporal token queries the joint tokens.

    Each joint token summarises the whole window, so frame t gets a
    frame-dependent *weighting* of window-level joint summaries rather than
    frame-t content. Offered for comparison with :class:`SpatialUnfold`.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim**-0.5
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, temporal: torch.Tensor, spatial: torch.Tensor) -> torch.Tensor:
        n, t, d = temporal.shape
        joints = spatial.shape[1]
        q = self.q(self.norm_q(temporal)).reshape(n, t, self.heads, self.head_dim).transpose(1, 2)
        kv = self.kv(self.norm_kv(spatial)).reshape(n, joints, 2, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        k, v = kv.unbind(0)
        weights = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(n, t, d))


class DSTEDetector(nn.Module):
    """DSTE encoder + per-frame dense head: (N, C, T, V, M) → logits (N, T, K + 1), class 0 background.

    Per-frame features (``cfg.frame_feature``):

    - ``"temporal"``: frame t's temporal token alone (d). The head then ignores
      the spatial stream (still computed, for the global feature).
    - ``"temporal+spatial"`` (default): the temporal token ⊕ :class:`SpatialUnfold`
      (d + k). Chosen as the default because it is the only option here in which
      the spatial stream contributes genuinely per-frame information (every joint
      token decodes its own trajectory at frame t), at d·T·k extra parameters
      and no extra attention.
    - ``"temporal+spatial_attn"``: the temporal token ⊕ :class:`SpatialAttentionPool`
      (2d).

    The feature is LayerNorm-ed (the streams end on a residual, unnormalised),
    then a Linear gives K + 1 logits per frame.

    With ``cfg.missing_prompts`` the window's NaN joints are first placed by
    :class:`~models.missing_joints.MissingJointPrompts` (``missing_joints``).
    """

    def __init__(self, cfg: DSTEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.num_classes = cfg.num_classes
        self.encoder = DSTEEncoder(cfg)
        self.missing_joints = (
            MissingJointPrompts(get_layout(cfg.layout).parent_indices, cfg.C) if cfg.missing_prompts else None
        )
        if cfg.frame_feature == "temporal":
            self.frame_pool = None
            self.num_features = cfg.dim
        elif cfg.frame_feature == "temporal+spatial":
            self.frame_pool = SpatialUnfold(cfg.dim, cfg.T, cfg.frame_spatial_dim)
            self.num_features = cfg.dim + cfg.frame_spatial_dim
        else:  # "temporal+spatial_attn", validated by the config
            self.frame_pool = SpatialAttentionPool(cfg.dim, cfg.heads)
            self.num_features = 2 * cfg.dim
        self.head_norm = nn.LayerNorm(self.num_features)
        self.head_drop = nn.Dropout(cfg.head_dropout)
        self.head = nn.Linear(self.num_features, cfg.num_classes)
        for module in (self.frame_pool, self.head_norm, self.head):
            if module is not None:
                module.apply(_init_weights)

    def forward_features(self, x: torch.Tensor) -> DenseFeatures:
        """Encoder outputs of a joint window batch (N, C, T, V, M)."""
        return self.encoder(x if self.missing_joints is None else self.missing_joints(x))

    def frame_features(self, features: DenseFeatures) -> torch.Tensor:
        """(N, T, F) per-frame features, F = ``self.num_features``."""
        if self.frame_pool is None:
            return features.temporal
        return torch.cat([features.temporal, self.frame_pool(features.temporal, features.spatial)], dim=-1)

    def forward_head(self, features: DenseFeatures, pre_logits: bool = False) -> torch.Tensor:
        """Per-frame logits (N, T, K + 1), or the normalised per-frame features with ``pre_logits``."""
        x = self.head_drop(self.head_norm(self.frame_features(features)))
        if pre_logits:
            return x
        _, frames, width = x.shape
        return self.head(x.reshape(-1, width)).view(-1, frames, self.head.out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier (e.g. fine-tuning on a new label set); K + 1 outputs, 0 = background."""
        if num_classes < 2:
            raise ValueError(f"num_classes counts the background class too and must be >= 2, got {num_classes}")
        self.cfg = DSTEConfig.from_dict({**self.cfg.to_dict(), "num_classes": num_classes})
        self.num_classes = num_classes
        self.head = nn.Linear(self.num_features, num_classes).to(self.head.weight.device)
        _init_weights(self.head)


# --------------------------------------------------------------------------- factory


def create_model(variant: str = "dste-small", **overrides) -> DSTEDetector:
    """A :class:`DSTEDetector` of a registered variant, with config fields overridden.

    Overriding ``layout`` without ``V`` takes V from the new layout.

        >>> model = create_model("dste-base", layout="kinect_v2_25", num_classes=61, modality="bone")
    """
    try:
        base = DSTE_VARIANTS[variant]
    except KeyError:
        raise ValueError(f"unknown DSTE variant {variant!r}; known: {', '.join(DSTE_VARIANTS)}") from None
    data = base.to_dict()
    if "layout" in overrides and "V" not in overrides:
        data["V"] = None
    data.update(overrides)
    return DSTEDetector(DSTEConfig.from_dict(data))
