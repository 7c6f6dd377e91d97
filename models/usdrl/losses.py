"""Multi-Grained Feature Decorrelation (MG-FD) loss of USDRL (DESIGN.md §3).

Over four views ``z_0 .. z_3`` (each (N, D), the projector outputs of one
domain), three terms:

- invariance: ``Σ_{k<3} MSE(z_k, z_3) + Σ_{k<3} MSE(z_k, mean(z_0, z_1, z_2))``
  (`invariance_loss`; MSE is the mean over all elements, as ``nn.MSELoss``);
- variance/covariance (VICReg): per view
  ``5·mean_d ReLU(1 − sqrt(var_d + 1e-4)) + Σ offdiag(cov)² / D``
  (`variance_loss`, `covariance_loss`, `vc_loss`), summed over the 4 views;
- cross-correlation (Barlow Twins): per view pair
  ``Σ_d (C_dd − 1)² + 0.005·Σ_{d≠e} C_de²`` with ``C`` the cross-correlation of
  the batch-normalised views (`cross_correlation_loss`), summed over the 6 pairs.

The three domains (temporal, spatial, instance) combine as
``L_inst + 0.5·(L_t + L_s)`` term by term, and the total is
``5·inv + 1·vc + 1e-3·xcorr`` (`mgfd_loss`).

Deviation from the official code (``model/loss.py``): its cross-correlation
standardises with the *unbiased* std and divides by N, so identical views give
a diagonal of (N − 1)/N rather than 1. Here the views are batch-normalised as
``BatchNorm1d(affine=False)`` does (biased variance, eps 1e-5), so identical
views give a diagonal of 1 (up to eps), as the Barlow Twins formula intends.
The VICReg variance and covariance keep the unbiased estimates, as both the
official code and VICReg do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import torch
import torch.nn.functional as F
from torch import Tensor

DOMAINS = ("t", "s", "i")
"""Domain keys: temporal, spatial, instance."""


@dataclass(frozen=True)
class MGFDWeights:
    """Weights of the MG-FD loss (defaults: the paper's, DESIGN.md §3).

    Attributes:
        inv: weight of the invariance term in the total.
        vc: weight of the variance/covariance term in the total.
        xcorr: weight of the cross-correlation term in the total.
        std: weight of the variance (std hinge) part inside the VC term.
        offdiag: weight of the off-diagonal part inside the Barlow term.
        temporal: weight of the temporal domain (instance domain weighs 1).
        spatial: weight of the spatial domain.
        var_eps: eps inside ``sqrt(var + eps)`` of the variance term.
    """

    inv: float = 5.0
    vc: float = 1.0
    xcorr: float = 1e-3
    std: float = 5.0
    offdiag: float = 0.005
    temporal: float = 0.5
    spatial: float = 0.5
    var_eps: float = 1e-4

    def __post_init__(self) -> None:
        for name in ("inv", "vc", "xcorr", "std", "offdiag", "temporal", "spatial"):
            if getattr(self, name) < 0:
                raise ValueError(f"MGFDWeights.{name} must be >= 0, got {getattr(self, name)}")
        if self.var_eps <= 0:
            raise ValueError(f"MGFDWeights.var_eps must be > 0, got {self.var_eps}")


def off_diagonal(matrix: Tensor) -> Tensor:
    """The off-diagonal entries of a square (D, D) matrix, flattened to (D·(D − 1),)."""
    d, e = matrix.shape
    if d != e:
        raise ValueError(f"off_diagonal needs a square matrix, got {tuple(matrix.shape)}")
    return matrix.flatten()[:-1].view(d - 1, d + 1)[:, 1:].flatten()


def _check_batch(z: Tensor, name: str) -> None:
    if z.ndim != 2:
        raise ValueError(f"{name} must be (N, D), got shape {tuple(z.shape)}")
    if z.shape[0] < 2:
        raise ValueError(f"{name} needs a batch of at least 2 to estimate statistics, got N = {z.shape[0]}")


def invariance_loss(views: Sequence[Tensor]) -> Tensor:
    """``Σ_{k<3} MSE(z_k, z_3) + Σ_{k<3} MSE(z_k, c)``, ``c = mean(z_0, z_1, z_2)``.

    Args:
        views: four (N, D) tensors; the last is the anchor ``z_3``.
    """
    if len(views) != 4:
        raise ValueError(f"invariance_loss needs 4 views, got {len(views)}")
    *others, anchor = views
    center = torch.stack(others).mean(dim=0)
    to_anchor = sum(F.mse_loss(z, anchor) for z in others)
    to_center = sum(F.mse_loss(z, center) for z in others)
    return to_anchor + to_center


def variance_loss(z: Tensor, eps: float = 1e-4) -> Tensor:
    """``mean_d ReLU(1 − sqrt(var_d + eps))`` over the batch (unbiased variance)."""
    _check_batch(z, "z")
    std = torch.sqrt(z.var(dim=0) + eps)
    return F.relu(1.0 - std).mean()


def covariance_loss(z: Tensor) -> Tensor:
    """``Σ offdiag(cov)² / D`` with ``cov`` the (D, D) unbiased batch covariance."""
    _check_batch(z, "z")
    n, d = z.shape
    centered = z - z.mean(dim=0)
    cov = centered.T @ centered / (n - 1)
    return off_diagonal(cov).pow(2).sum() / d


def vc_loss(z: Tensor, std_weight: float = 5.0, eps: float = 1e-4) -> Tensor:
    """VICReg regulariser of one view: ``std_weight·variance_loss + covariance_loss``."""
    return std_weight * variance_loss(z, eps) + covariance_loss(z)


def batch_normalize(z: Tensor, eps: float = 1e-5) -> Tensor:
    """Standardise each column over the batch as ``BatchNorm1d(affine=False)`` does."""
    _check_batch(z, "z")
    mean = z.mean(dim=0)
    var = z.var(dim=0, unbiased=False)
    return (z - mean) / torch.sqrt(var + eps)


def cross_correlation(a: Tensor, b: Tensor) -> Tensor:
    """(D, D) cross-correlation of two batch-normalised views: ``a_nᵀ b_n / N``."""
    if a.shape != b.shape:
        raise ValueError(f"views differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    return batch_normalize(a).T @ batch_normalize(b) / a.shape[0]


def cross_correlation_loss(a: Tensor, b: Tensor, offdiag_weight: float = 0.005) -> Tensor:
    """Barlow Twins term of one view pair: ``Σ(diag(C) − 1)² + w·Σ offdiag(C)²``."""
    c = cross_correlation(a, b)
    on_diag = (torch.diagonal(c) - 1.0).pow(2).sum()
    off_diag = off_diagonal(c).pow(2).sum()
    return on_diag + offdiag_weight * off_diag


def pairwise_cross_correlation_loss(views: Sequence[Tensor], offdiag_weight: float = 0.005) -> Tensor:
    """`cross_correlation_loss` summed over every unordered pair of views (6 for 4 views)."""
    if len(views) < 2:
        raise ValueError(f"need at least 2 views, got {len(views)}")
    return sum(cross_correlation_loss(a, b, offdiag_weight) for a, b in combinations(views, 2))


def cross_modal_invariance(streams: Sequence[Tensor]) -> Tensor:
    """``Σ_m MSE(z_m, mean_m' z_m')``: each modality's projection pulled to their centroid.

    Args:
        streams: one (N, D) projection of the same view per modality (at least 2).
    """
    if len(streams) < 2:
        raise ValueError(f"cross_modal_invariance needs at least 2 modalities, got {len(streams)}")
    center = torch.stack(list(streams)).mean(dim=0)
    return sum(F.mse_loss(z, center) for z in streams)


def domain_loss(views: Sequence[Tensor], weights: MGFDWeights = MGFDWeights()) -> dict[str, Tensor]:
    """The three MG-FD terms of one domain over its four views.

    Returns:
        ``{"inv", "vc", "xcorr"}``: invariance, VC summed over the 4 views,
        cross-correlation summed over the 6 view pairs (all unweighted).
    """
    return {
        "inv": invariance_loss(views),
        "vc": sum(vc_loss(z, weights.std, weights.var_eps) for z in views),
        "xcorr": pairwise_cross_correlation_loss(views, weights.offdiag),
    }


def combine_domains(
    per_domain: dict[str, dict[str, Tensor]], weights: MGFDWeights = MGFDWeights()
) -> dict[str, Tensor]:
    """Combine per-domain terms ``{"t"|"s"|"i": {"inv", "vc", "xcorr"}}`` into the loss dict.

    Each term is ``X_i + w_t·X_t + w_s·X_s``; ``total = w_inv·inv + w_vc·vc + w_xcorr·xcorr``.
    Per-domain entries are kept as ``"{term}_{domain}"`` (e.g. ``"inv_t"``) for logging.
    """
    domain_weight = {"i": 1.0, "t": weights.temporal, "s": weights.spatial}
    out: dict[str, Tensor] = {}
    for term in ("inv", "vc", "xcorr"):
        out[term] = sum(domain_weight[d] * per_domain[d][term] for d in DOMAINS)
        for d in DOMAINS:
            out[f"{term}_{d}"] = per_domain[d][term]
    out["total"] = weights.inv * out["inv"] + weights.vc * out["vc"] + weights.xcorr * out["xcorr"]
    return out


def mgfd_loss(
    z_t: Sequence[Tensor],
    z_s: Sequence[Tensor],
    z_i: Sequence[Tensor],
    weights: MGFDWeights = MGFDWeights(),
) -> dict[str, Tensor]:
    """The MG-FD loss over the three domains, four views each.

    Args:
        z_t: four (N, D_t) temporal-domain projections, anchor view last.
        z_s: four (N, D_s) spatial-domain projections, anchor view last.
        z_i: four (N, D_i) instance-domain projections, anchor view last.
        weights: term and domain weights.

    Returns:
        ``"total"`` (the loss to minimise), ``"inv"``, ``"vc"``, ``"xcorr"`` (domains
        combined, unweighted by the term weights) and ``"{term}_{t|s|i}"``.
    """
    per_domain = {"t": domain_loss(z_t, weights), "s": domain_loss(z_s, weights), "i": domain_loss(z_i, weights)}
    return combine_domains(per_domain, weights)
