"""The DSTE configuration: architecture and input contract of a checkpoint, and the registered sizes.

Torch-free on purpose: a checkpoint's ``config.json`` and the metadata of its
ONNX export are read and validated through :class:`DSTEConfig`, and an ONNX
Runtime deployment must not need torch for that. The model itself is
``models/dste.py``.

    >>> cfg = DSTEConfig.from_dict({**DSTE_VARIANTS["dste-small"].to_dict(), "num_classes": 11})
    >>> cfg.input_shape                              # (C, T, V, M) of one window
    (3, 64, 30, 2)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from models.skeleton.layouts import LAYOUTS, get_layout

__all__ = ["DSTE_VARIANTS", "FRAME_FEATURES", "MODALITIES", "DSTEConfig"]

FRAME_FEATURES = ("temporal", "temporal+spatial", "temporal+spatial_attn")
MODALITIES = ("joint", "motion", "bone")


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
        missing_prompts: windows mark missing joints NaN and the detector places
            them with learned per-joint prompts (``models/missing_joints.py``);
            the checkpoint's normalisation must then have ``mark_missing``.
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
    missing_prompts: bool = False

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
        """Plain-JSON form, for checkpoint ``config.json`` (``missing_prompts`` only when set)."""
        data = asdict(self)
        if not self.missing_prompts:
            del data["missing_prompts"]
        return data

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
