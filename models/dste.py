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
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import torch
from torch import nn

from models.modalities import MODALITIES, as_parent_tensor, to_modality
from models.skeleton.layouts import LAYOUTS, get_layout

__all__ = [
    "FRAME_FEATURES",
    "DSTE_VARIANTS",
    "Attention",
    "ConvAttention",
    "DenseFeatures",
    "DenseShift",
    "DenseShiftAttention",
    "DropPath",
    "DSTEConfig",
    "DSTEDetector",
    "DSTEEncoder",
    "DSTELayer",
    "DSTEStream",
    "Mlp",
    "create_model",
    "sinusoidal_positions",
]

FRAME_FEATURES = ("temporal", "temporal+spatial", "temporal+spatial_attn")


# --------------------------------------------------------------------------- blocks


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch per sample while training."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

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
    """Multi-head self-attention over (N, L, d) tokens, plain matmuls (exporter-friendly).

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, dim = x.shape
        qkv = self.qkv(x).reshape(n, length, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each (N, heads, L, head_dim)
        weights = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(n, length, dim)
        return self.proj(out)


class DenseShift(nn.Module):
    """The "dense shift" of DSA: a residual token-mixing MLP, every ``gap``-th token kept.

    ``h = x + W2 · ReLU(W1 · x)`` mixes along the token axis (W1, W2 are L×L, so L
    is fixed); tokens whose index is a multiple of ``gap`` are then restored to
    their input values, the others keep the mixed values.
    """

    def __init__(self, num_tokens: int, gap: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(num_tokens, num_tokens)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(num_tokens, num_tokens)
        keep = (torch.arange(num_tokens) % gap == 0).view(1, num_tokens, 1)
        self.register_buffer("keep", keep, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = x.transpose(1, 2)  # (N, d, L): mix along L
        mixed = (f + self.fc2(self.act(self.fc1(f)))).transpose(1, 2)
        return torch.where(self.keep, x, mixed)


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
        # Both inputs run through the same weights; one call on a doubled batch
        # halves the kernel launches (what matters at batch 1 on a CPU).
        z = torch.cat([self.shift(x), x], dim=0)
        z = z + self.drop_path(attn(self.norm1(z)))
        z = z + self.drop_path(self.mlp(self.norm2(z)))
        return z.unflatten(0, (2, -1)).mean(dim=0)


class ConvAttention(nn.Module):
    """CA: ``h = x + ReLU(Conv1d(x))``, then pre-norm attention and MLP, each with its residual."""

    def __init__(self, dim: int, mlp_ratio: float, drop_path: float, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)
        self.act = nn.ReLU()
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, attn: Attention) -> torch.Tensor:
        h = x + self.act(self.conv(x.transpose(1, 2))).transpose(1, 2)
        h = h + self.drop_path(attn(self.norm1(h)))
        return h + self.drop_path(self.mlp(self.norm2(h)))


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
        return 0.5 * self.ca(x, self.attn) + 0.5 * self.dsa(x, self.attn)


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
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x + self.pos_embed)
        return x


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class DSTEConfig:
    """Architecture and input contract of a DSTE detector.

    Attributes:
        dim: token width d of both streams.
        depth: DSTE layers per stream.
        heads: attention heads (``dim`` must divide by it).
        mlp_ratio: MLP hidden width / d.
        drop_path: stochastic-depth rate of every residual branch (training only).
        T: frames per window (fixed: the temporal token-mixing Linear is T×T).
        V: joints per body; ``None`` takes the layout's joint count, any other
            value must equal it.
        M: bodies per window (fixed, with V: the spatial token-mixing Linear is
            (M·V)×(M·V)).
        C: channels per joint (3 for xyz).
        layout: joint layout of the windows (``models.skeleton.layouts``); gives
            the parents of the bone modality.
        modality: ``"joint"``, ``"motion"`` or ``"bone"``: applied inside the model,
            so callers always pass joint windows.
        frame_feature: per-frame feature of the dense head, see
            :class:`DSTEDetector`: ``"temporal"``, ``"temporal+spatial"``,
            ``"temporal+spatial_attn"``.
        frame_spatial_dim: k, width of the per-frame spatial summary of
            ``"temporal+spatial"``.
        num_classes: K actions + 1 background (class 0).
        shift_gap: DSA restores every ``shift_gap``-th token (paper: 4).
        conv_kernel: CA's Conv1d kernel along tokens (odd; paper: 1).
        head_dropout: dropout on the per-frame feature before the classifier.
    """

    dim: int = 1024
    depth: int = 2
    heads: int = 1
    mlp_ratio: float = 2.0
    drop_path: float = 0.1
    T: int = 64
    V: int | None = None
    M: int = 2
    C: int = 3
    layout: str = "unified_30"
    modality: str = "joint"
    frame_feature: str = "temporal+spatial"
    frame_spatial_dim: int = 64
    num_classes: int = 52
    shift_gap: int = 4
    conv_kernel: int = 1
    head_dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout {self.layout!r}; known: {', '.join(sorted(LAYOUTS))}")
        joints = get_layout(self.layout).num_joints
        if self.V is None:
            object.__setattr__(self, "V", joints)
        elif self.V != joints:
            raise ValueError(f"V={self.V} but layout {self.layout!r} has {joints} joints")
        for name in ("dim", "depth", "heads", "T", "M", "C", "frame_spatial_dim", "shift_gap", "conv_kernel"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.dim % self.heads:
            raise ValueError(f"dim={self.dim} must be divisible by heads={self.heads}")
        if self.dim % 2:
            raise ValueError(f"dim={self.dim} must be even (sinusoidal positions pair sin/cos channels)")
        if not self.mlp_ratio > 0:
            raise ValueError(f"mlp_ratio must be > 0, got {self.mlp_ratio}")
        if not 0.0 <= self.drop_path < 1.0:
            raise ValueError(f"drop_path must be in [0, 1), got {self.drop_path}")
        if not 0.0 <= self.head_dropout < 1.0:
            raise ValueError(f"head_dropout must be in [0, 1), got {self.head_dropout}")
        if self.conv_kernel % 2 == 0:
            raise ValueError(f"conv_kernel must be odd to keep the token count, got {self.conv_kernel}")
        if self.modality not in MODALITIES:
            raise ValueError(f"unknown modality {self.modality!r}; expected one of {', '.join(MODALITIES)}")
        if self.frame_feature not in FRAME_FEATURES:
            raise ValueError(
                f"unknown frame_feature {self.frame_feature!r}; expected one of {', '.join(FRAME_FEATURES)}"
            )
        if not isinstance(self.num_classes, int) or self.num_classes < 2:
            raise ValueError(
                f"num_classes counts the background class too and must be >= 2, got {self.num_classes!r}"
            )

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """(C, T, V, M): the shape of one window."""
        return (self.C, self.T, self.V, self.M)

    def to_dict(self) -> dict:
        """Plain-JSON form, for checkpoint ``config.json``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DSTEConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown DSTEConfig keys: {', '.join(unknown)}")
        return cls(**data)


DSTE_VARIANTS: dict[str, DSTEConfig] = {
    # The paper's encoder: d=1024, 2 layers per stream, 1 head, MLP ratio 2, DropPath 0.1.
    # ≈57 M parameters / ≈6.2 GMAC per window at V=25 (NTU, kinect_v2_25).
    "dste-base": DSTEConfig(dim=1024, depth=2, heads=1, mlp_ratio=2.0, drop_path=0.1, T=64),
    # Same architecture sized for real time on 2 CPU cores (batch 1, T=64, V=30, M=2):
    # 1.26 M parameters, 0.14 GMAC, ≈3.6 ms median eager torch on 2 threads (d=96: 3.2 ms,
    # d=192: 5.2 ms, d=256: 7.2 ms; below d≈128 per-op overhead dominates).
    # Re-measure with `python -m benchmarks.model_size`.
    "dste-small": DSTEConfig(dim=128, depth=2, heads=1, mlp_ratio=2.0, drop_path=0.1, T=64, frame_spatial_dim=32),
}


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
        n, joints, _ = spatial.shape
        per_frame = self.unfold(self.norm(spatial)).reshape(n, joints, self.num_frames, self.k)
        return per_frame.amax(dim=1)


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
    """

    def __init__(self, cfg: DSTEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.num_classes = cfg.num_classes
        self.encoder = DSTEEncoder(cfg)
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
        return self.encoder(x)

    def frame_features(self, features: DenseFeatures) -> torch.Tensor:
        """(N, T, F) per-frame features, F = ``self.num_features``."""
        if self.frame_pool is None:
            return features.temporal
        return torch.cat([features.temporal, self.frame_pool(features.temporal, features.spatial)], dim=-1)

    def forward_head(self, features: DenseFeatures, pre_logits: bool = False) -> torch.Tensor:
        """Per-frame logits (N, T, K + 1), or the normalised per-frame features with ``pre_logits``."""
        x = self.head_drop(self.head_norm(self.frame_features(features)))
        return x if pre_logits else self.head(x)

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
