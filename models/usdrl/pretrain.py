"""`USDRLPretrainer`: self-supervised USDRL pretraining around any dense encoder.

Encoder contract (what the lead wires; DSTE satisfies it)::

    features = encoder(x, modality=name)

- ``x``: (N, C, T, V, M) float *joint* windows (the augmented views). The encoder
  converts them to ``name`` itself (``"joint"``, ``"motion"``: x[t+1] − x[t],
  ``"bone"``: joint − parent) before embedding; see `models.modalities`.
- returns a 3-tuple, positionally ``(temporal, spatial, global)`` — e.g. the
  ``DenseFeatures`` NamedTuple — with temporal (N, T, d), spatial (N, M·V, d) and
  global (N, 2d). It is unpacked by position, so the field names do not matter.
- the encoder must treat samples independently (LayerNorm, not BatchNorm), since
  by default the views are concatenated along N and encoded in one call
  (``PretrainConfig.batch_views``).

If the encoder is an ``nn.Module`` it is registered as ``self.encoder``, so
``pretrainer.parameters()`` trains it together with the projectors.

How dense features reach the projectors (as the official ``USDRL.sub_forward``):
the temporal domain pools the per-frame features over frames, the spatial
domain pools the per-joint features over the M·V joint tokens (max by default,
``pool="mean"`` optional), giving (N, d) each; the instance domain takes the
global feature (N, 2d), which for DSTE is exactly the two maxima concatenated.
The encoder sees no mask, and pooling covers every token, an absent second
body's too, as in the official code (the token order is the encoder's business).
The loss is not applied per token: views are cropped and resized independently,
so frame t of one view is not frame t of another and per-frame invariance
between views would pull unrelated moments together.

Views: ``z_0, z_1, z_2`` are MPCT views (``config.augment``). The anchor ``z_3``
is, by default, one more MPCT view drawn from the same distribution — the
official feeder makes all four views identically, and that is the published,
measured recipe; ``z_3`` is an anchor only through the loss's asymmetry
(the others are pulled to it and to their centroid). ``config.anchor_augment``
gives the anchor its own, e.g. milder, view parameters (`MILD_ANCHOR`).

Multi-modal consistency (``config.modalities``, first = primary): the encoder
is run on the *same* augmented views with each modality, through the shared
projectors. Let ``Z^m_{d,k}`` be the projection of modality m, domain d, view k.

- ``cross_modal_views="anchor"`` (default, cheap: 4 + (|modalities| − 1) encoder
  passes): the primary modality gets the full MG-FD loss over its 4 views; every
  other modality is encoded on the anchor view only.
- ``cross_modal_views="all"`` (4·|modalities| passes): every modality gets the
  full MG-FD loss on its own 4 views; the MG-FD entries are averaged over them.

The cross-modal term, over the views K both modes share (``{3}`` or ``{0..3}``),
per domain: ``inv = mean_k Σ_m MSE(Z^m_{d,k}, mean_m Z^m_{d,k})``,
``xcorr = mean_k Σ_{m<m'} Barlow(Z^m_{d,k}, Z^{m'}_{d,k})``, and in "anchor"
mode ``vc = Σ_{m ≠ primary} VICReg-vc(Z^m_{d,3})`` (the others would otherwise have
no collapse guard of their own). Domains combine as in MG-FD
(``L_i + 0.5·(L_t + L_s)``) and ``xmodal = 5·inv + vc + 1e-3·xcorr``;
``total = mgfd + cross_modal_weight · xmodal``. With one modality the cross-modal
term is absent and this is the paper's single-modality pretraining.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from models.dste_config import MODALITIES
from models.usdrl.augment import MPCT, MPCTConfig, View
from models.usdrl.losses import (
    DOMAINS,
    MGFDWeights,
    combine_domains,
    cross_modal_invariance,
    mgfd_loss,
    pairwise_cross_correlation_loss,
    vc_loss,
)
from models.usdrl.projector import DomainProjectors, ProjectorConfig

POOLINGS = ("max", "mean")
CROSS_MODAL_VIEWS = ("anchor", "all")
NUM_VIEWS = 4
ANCHOR = NUM_VIEWS - 1

MILD_ANCHOR = MPCTConfig(crop_scale=(0.5, 1.0), corrupt_prob=0.0, shear_range=0.3)
"""An optional milder anchor view: longer crops, a gentle shear, no joint corruption."""

Encoder = Callable[..., Sequence[Tensor]]


@dataclass(frozen=True)
class PretrainConfig:
    """Configuration of `USDRLPretrainer` (defaults: the paper's, single modality).

    Attributes:
        projector: projector widths (paper: 2048 wide, instance 4096 out).
        augment: MPCT parameters of views z_0..z_2 (and of z_3 unless ``anchor_augment``).
        anchor_augment: parameters of the anchor view z_3; None: same as ``augment``.
        loss: MG-FD weights.
        pool: how dense temporal/spatial features are pooled before their projector.
        modalities: streams encoded; the first is the primary one.
        cross_modal_views: ``"anchor"`` or ``"all"`` (see the module docstring).
        cross_modal_weight: weight of the cross-modal term in the total.
        batch_views: encode the views of one modality in one concatenated call.
    """

    projector: ProjectorConfig = field(default_factory=ProjectorConfig)
    augment: MPCTConfig = field(default_factory=MPCTConfig)
    anchor_augment: MPCTConfig | None = None
    loss: MGFDWeights = field(default_factory=MGFDWeights)
    pool: str = "max"
    modalities: tuple[str, ...] = ("joint",)
    cross_modal_views: str = "anchor"
    cross_modal_weight: float = 1.0
    batch_views: bool = True

    def __post_init__(self) -> None:
        if self.pool not in POOLINGS:
            raise ValueError(f"pool must be one of {POOLINGS}, got {self.pool!r}")
        if not self.modalities:
            raise ValueError("modalities must name at least one stream")
        unknown = [m for m in self.modalities if m not in MODALITIES]
        if unknown:
            raise ValueError(f"unknown modalities {unknown}; choose from {MODALITIES}")
        if len(set(self.modalities)) != len(self.modalities):
            raise ValueError(f"modalities repeat a name: {self.modalities}")
        if self.cross_modal_views not in CROSS_MODAL_VIEWS:
            raise ValueError(f"cross_modal_views must be one of {CROSS_MODAL_VIEWS}, got {self.cross_modal_views!r}")
        if self.cross_modal_weight < 0:
            raise ValueError(f"cross_modal_weight must be >= 0, got {self.cross_modal_weight}")


class USDRLPretrainer(nn.Module):
    """Encoder + three domain projectors + MPCT views -> the MG-FD loss dict.

    Args:
        encoder: callable ``encoder(x, modality=name) -> (temporal, spatial, global)``
            as the module docstring states.
        feature_dim: the encoder width d (temporal/spatial features are (.., d),
            global (N, 2d)).
        config: pretraining configuration.
        flip_permutation: ``Layout.flip_permutation`` of the input layout; needed
            when ``config.augment.flip_prob > 0`` (or the anchor's).
    """

    def __init__(
        self,
        encoder: Encoder,
        feature_dim: int,
        config: PretrainConfig = PretrainConfig(),
        flip_permutation: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.feature_dim = feature_dim
        self.config = config
        self.projectors = DomainProjectors(feature_dim, config.projector)
        self.augment = MPCT(config.augment, flip_permutation)
        self.anchor_augment = MPCT(config.anchor_augment or config.augment, flip_permutation)

    # --- views ------------------------------------------------------------
    @torch.no_grad()
    def make_views(self, x: Tensor, mask: Tensor, length: Tensor, generator: torch.Generator) -> list[View]:
        """The four views z_0..z_3 of a batch (the anchor last)."""
        return [
            (self.anchor_augment if k == ANCHOR else self.augment)(x, mask, length, generator)
            for k in range(NUM_VIEWS)
        ]

    # --- encoding ---------------------------------------------------------
    def _check_features(self, features: Sequence[Tensor], n: int) -> tuple[Tensor, Tensor, Tensor]:
        if len(features) != 3:
            raise ValueError(f"encoder must return (temporal, spatial, global), got {len(features)} items")
        temporal, spatial, global_ = features
        d = self.feature_dim
        if temporal.ndim != 3 or temporal.shape[0] != n or temporal.shape[2] != d:
            raise ValueError(f"temporal features must be (N={n}, T, d={d}), got {tuple(temporal.shape)}")
        if spatial.ndim != 3 or spatial.shape[0] != n or spatial.shape[2] != d:
            raise ValueError(f"spatial features must be (N={n}, M*V, d={d}), got {tuple(spatial.shape)}")
        if tuple(global_.shape) != (n, 2 * d):
            raise ValueError(f"global feature must be (N={n}, 2d={2 * d}), got {tuple(global_.shape)}")
        return temporal, spatial, global_

    def _pool(self, tokens: Tensor) -> Tensor:
        return tokens.amax(dim=1) if self.config.pool == "max" else tokens.mean(dim=1)

    def project(self, features: Sequence[Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """Pool dense features and project them: returns ``(z_t, z_s, z_i)``."""
        temporal, spatial, global_ = self._check_features(features, features[0].shape[0])
        return self.projectors(self._pool(temporal), self._pool(spatial), global_)

    def encode_views(self, views: Sequence[Tensor], modality: str) -> list[tuple[Tensor, Tensor, Tensor]]:
        """Encode each view with ``modality`` and project it; one ``(z_t, z_s, z_i)`` per view.

        Projectors run per view, so BatchNorm statistics are per view as in the official code.
        """
        if self.config.batch_views and len(views) > 1:
            n = views[0].shape[0]
            features = self._check_features(self.encoder(torch.cat(list(views)), modality=modality), n * len(views))
            per_view = [tuple(f[k * n : (k + 1) * n] for f in features) for k in range(len(views))]
        else:
            per_view = [self._check_features(self.encoder(v, modality=modality), v.shape[0]) for v in views]
        return [self.project(f) for f in per_view]

    # --- loss -------------------------------------------------------------
    def forward(
        self,
        x: Tensor,
        mask: Tensor,
        length: Tensor,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """Pretraining loss of one batch.

        Args:
            x: (N, C, T, V, M) joint windows (N >= 2: the loss uses batch statistics).
            mask: (N, T, V, M) joint validity.
            length: (N,) valid frames per sample.
            generator: source of the view randomness; None uses torch's default generator.

        Returns:
            ``"total"`` (minimise this), ``"mgfd"``, ``"inv"``, ``"vc"``, ``"xcorr"``,
            ``"{inv|vc|xcorr}_{t|s|i}"``; with several modalities also ``"mgfd_{name}"``
            per fully-viewed modality and ``"xmodal"``, ``"xmodal_{inv|vc|xcorr}"``.
        """
        if x.shape[0] < 2:
            raise ValueError(f"pretraining needs a batch of at least 2 samples, got {x.shape[0]}")
        cfg = self.config
        if generator is None:
            generator = torch.default_generator
        views = [v.x for v in self.make_views(x, mask, length, generator)]
        primary, *others = cfg.modalities
        full = list(cfg.modalities) if cfg.cross_modal_views == "all" else [primary]

        # z[m][view index] = (z_t, z_s, z_i)
        z: dict[str, dict[int, tuple[Tensor, Tensor, Tensor]]] = {}
        for m in cfg.modalities:
            ids = list(range(NUM_VIEWS)) if m in full else [ANCHOR]
            z[m] = dict(zip(ids, self.encode_views([views[k] for k in ids], m)))

        per_modality = {}
        for m in full:
            zt, zs, zi = ([z[m][k][j] for k in range(NUM_VIEWS)] for j in range(3))
            per_modality[m] = mgfd_loss(zt, zs, zi, cfg.loss)
        out = {key: sum(d[key] for d in per_modality.values()) / len(full) for key in per_modality[primary]}
        out["mgfd"] = out["total"]
        if len(full) > 1:
            for m, d in per_modality.items():
                out[f"mgfd_{m}"] = d["total"]

        if others:
            xmodal = self.cross_modal_loss(z, full)
            out.update({("xmodal" if k == "total" else f"xmodal_{k}"): v for k, v in xmodal.items()})
            out["total"] = out["mgfd"] + cfg.cross_modal_weight * out["xmodal"]
        return out

    def cross_modal_loss(
        self, z: dict[str, dict[int, tuple[Tensor, Tensor, Tensor]]], full: Sequence[str]
    ) -> dict[str, Tensor]:
        """The cross-modal consistency term (module docstring) from projections ``z[m][k]``."""
        cfg = self.config
        modalities = list(cfg.modalities)
        shared = sorted(set.intersection(*(set(z[m]) for m in modalities)))
        per_domain = {}
        for j, d in enumerate(DOMAINS):  # projections are (z_t, z_s, z_i), DOMAINS is (t, s, i)
            streams = [[z[m][k][j] for m in modalities] for k in shared]
            inv = sum(cross_modal_invariance(s) for s in streams) / len(shared)
            xcorr = sum(pairwise_cross_correlation_loss(s, cfg.loss.offdiag) for s in streams) / len(shared)
            guarded = [m for m in modalities if m not in full]
            vc = sum((vc_loss(z[m][ANCHOR][j], cfg.loss.std, cfg.loss.var_eps) for m in guarded), inv.new_zeros(()))
            per_domain[d] = {"inv": inv, "vc": vc, "xcorr": xcorr}
        return combine_domains(per_domain, cfg.loss)
