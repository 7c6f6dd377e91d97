"""USDRL pretraining: each MG-FD term against its formula, MPCT views, the pretrainer."""

from itertools import combinations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from models.skeleton.layouts import UNIFIED_30
from models.usdrl.augment import (
    MPCT,
    MPCTConfig,
    horizontal_flip,
    joint_corruption,
    rotate_vertical,
    shear,
    temporal_crop_resize,
)
from models.usdrl.losses import (
    MGFDWeights,
    covariance_loss,
    cross_correlation_loss,
    cross_modal_invariance,
    invariance_loss,
    mgfd_loss,
    off_diagonal,
    pairwise_cross_correlation_loss,
    variance_loss,
    vc_loss,
)
from models.usdrl.pretrain import MILD_ANCHOR, PretrainConfig, USDRLPretrainer
from models.usdrl.projector import DomainProjectors, Projector, ProjectorConfig


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def hadamard(n: int) -> torch.Tensor:
    """(n, n) Sylvester Hadamard matrix (n a power of 2): ±1 entries, orthogonal columns."""
    h = torch.ones(1, 1, dtype=torch.float64)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h


def decorrelated(n: int = 16, d: int = 8, scale: float = 1.0) -> torch.Tensor:
    """(n, d) columns with zero mean, biased variance scale², zero pairwise covariance."""
    return scale * hadamard(n)[:, 1 : d + 1]  # drop the constant column


# --- naive references: explicit loops over the formulas ---------------------
def naive_mse(a, b):
    return sum(float((a[i, j] - b[i, j]) ** 2) for i in range(a.shape[0]) for j in range(a.shape[1])) / a.numel()


def naive_variance(z, eps=1e-4):
    n, d = z.shape
    total = 0.0
    for j in range(d):
        mean = sum(float(z[i, j]) for i in range(n)) / n
        var = sum((float(z[i, j]) - mean) ** 2 for i in range(n)) / (n - 1)
        total += max(0.0, 1.0 - (var + eps) ** 0.5)
    return total / d


def naive_covariance(z):
    n, d = z.shape
    means = [sum(float(z[i, j]) for i in range(n)) / n for j in range(d)]
    total = 0.0
    for a in range(d):
        for b in range(d):
            if a != b:
                cov = sum((float(z[i, a]) - means[a]) * (float(z[i, b]) - means[b]) for i in range(n)) / (n - 1)
                total += cov**2
    return total / d


def naive_barlow(x, y, lambd=0.005, eps=1e-5):
    n, d = x.shape

    def standardise(z):
        cols = []
        for j in range(d):
            col = [float(z[i, j]) for i in range(n)]
            mean = sum(col) / n
            var = sum((c - mean) ** 2 for c in col) / n
            cols.append([(c - mean) / (var + eps) ** 0.5 for c in col])
        return cols

    xs, ys = standardise(x), standardise(y)
    total = 0.0
    for a in range(d):
        for b in range(d):
            c = sum(xs[a][i] * ys[b][i] for i in range(n)) / n
            total += (c - 1.0) ** 2 if a == b else lambd * c**2
    return total


# --- loss terms ---------------------------------------------------------------
def test_off_diagonal_takes_every_entry_but_the_diagonal():
    m = torch.arange(16.0).view(4, 4)
    expected = [float(m[i, j]) for i in range(4) for j in range(4) if i != j]
    assert off_diagonal(m).tolist() == expected


def test_variance_term_zero_when_every_std_at_least_one_positive_otherwise():
    z = decorrelated(scale=2.0)
    assert variance_loss(z).item() == 0.0
    z_small = z.clone()
    z_small[:, 3] *= 0.1  # one dimension with std < 1
    assert variance_loss(z_small).item() > 0.0
    assert variance_loss(torch.zeros(8, 4)).item() == pytest.approx(1.0 - 1e-2)  # collapsed: 1 - sqrt(eps)


def test_covariance_term_zero_for_decorrelated_features():
    assert covariance_loss(decorrelated()).item() == pytest.approx(0.0, abs=1e-12)
    correlated = decorrelated()
    correlated[:, 1] = correlated[:, 0]
    assert covariance_loss(correlated).item() > 0.1


def test_invariance_zero_for_identical_views():
    z = torch.randn(6, 5, generator=gen())
    assert invariance_loss([z, z, z, z]).item() == pytest.approx(0.0, abs=1e-12)  # mean of 3: rounding only
    assert cross_modal_invariance([z, z, z]).item() == pytest.approx(0.0, abs=1e-12)
    assert invariance_loss([z, z, z, z + 1.0]).item() == pytest.approx(3.0)  # 3 views, each 1 from the anchor


def test_barlow_term_zero_for_identical_standardised_decorrelated_views():
    z = decorrelated(n=16, d=8)  # mean 0, var 1, orthogonal columns: cross-correlation = identity
    assert cross_correlation_loss(z, z).item() == pytest.approx(0.0, abs=1e-8)
    assert cross_correlation_loss(z, -z).item() == pytest.approx(4.0 * 8, rel=1e-4)  # diagonal -1


def test_terms_match_naive_loops_on_random_tensors():
    g = gen(1)
    views = [torch.randn(7, 5, generator=g, dtype=torch.float64) * (k + 0.5) for k in range(4)]
    z0, z1, z2, z3 = views
    center = (z0 + z1 + z2) / 3
    inv = sum(naive_mse(z, z3) for z in (z0, z1, z2)) + sum(naive_mse(z, center) for z in (z0, z1, z2))
    assert invariance_loss(views).item() == pytest.approx(inv, rel=1e-10)
    for z in views:
        assert variance_loss(z).item() == pytest.approx(naive_variance(z), rel=1e-10, abs=1e-12)
        assert covariance_loss(z).item() == pytest.approx(naive_covariance(z), rel=1e-10)
        assert vc_loss(z).item() == pytest.approx(5 * naive_variance(z) + naive_covariance(z), rel=1e-10)
    assert cross_correlation_loss(z0, z1).item() == pytest.approx(naive_barlow(z0, z1), rel=1e-10)
    pairs = sum(naive_barlow(a, b) for a, b in combinations(views, 2))
    assert pairwise_cross_correlation_loss(views).item() == pytest.approx(pairs, rel=1e-10)


def test_mgfd_combines_domains_and_terms_with_the_paper_weights():
    g = gen(2)
    zt, zs, zi = ([torch.randn(6, d, generator=g, dtype=torch.float64) for _ in range(4)] for d in (4, 4, 8))
    out = mgfd_loss(zt, zs, zi)

    def term(views):
        return (
            invariance_loss(views),
            sum(vc_loss(z) for z in views),
            sum(cross_correlation_loss(a, b) for a, b in combinations(views, 2)),
        )

    (it, vt, xt), (is_, vs, xs), (ii, vi, xi) = term(zt), term(zs), term(zi)
    inv, vc, xc = ii + 0.5 * (it + is_), vi + 0.5 * (vt + vs), xi + 0.5 * (xt + xs)
    assert out["inv"].item() == pytest.approx(inv.item())
    assert out["vc"].item() == pytest.approx(vc.item())
    assert out["xcorr"].item() == pytest.approx(xc.item())
    assert out["vc_s"].item() == pytest.approx(vs.item())
    assert out["total"].item() == pytest.approx((5 * inv + vc + 1e-3 * xc).item())
    with pytest.raises(ValueError):
        MGFDWeights(inv=-1.0)


# --- projectors -----------------------------------------------------------------
def test_projectors_have_the_configured_widths():
    assert ProjectorConfig() == ProjectorConfig(width=2048, out_dim=2048, instance_width=2048, instance_out_dim=4096)
    proj = DomainProjectors(8, ProjectorConfig(width=16, out_dim=12, instance_width=20, instance_out_dim=24))
    kinds = [type(m) for m in proj.temporal]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    zt, zs, zi = proj(torch.randn(5, 8), torch.randn(5, 8), torch.randn(5, 16))
    assert zt.shape == (5, 12) and zs.shape == (5, 12) and zi.shape == (5, 24)
    assert proj.instance[0].in_features == 16 and proj.instance[3].in_features == 20
    with pytest.raises(ValueError):
        Projector(0, 4, 4)


# --- augmentations ----------------------------------------------------------------
N, C, T, V, M = 4, 3, 16, 30, 2


def batch(seed: int = 0, length=(16, 40, 9, 16), t_max: int = 40):
    """x with the frame index in channel 0 (a time ramp), random elsewhere; mask all valid."""
    g = gen(seed)
    x = torch.randn(N, C, t_max, V, M, generator=g)
    x[:, 0] = torch.arange(t_max, dtype=torch.float32)[None, :, None, None]
    mask = torch.ones(N, t_max, V, M, dtype=torch.bool)
    return x, mask, torch.tensor(length)


def test_crop_resize_keeps_shapes_and_whole_crop_matches_interpolate():
    x, mask, length = batch(length=(40, 40, 25, 7))
    view = temporal_crop_resize(x, mask, length, gen(), scale=(1.0, 1.0))
    assert view.x.shape == x.shape and view.mask.shape == mask.shape and view.mask.dtype == torch.bool
    assert view.length.tolist() == [40] * N
    assert torch.allclose(view.x[0], x[0])  # full-length crop of a full window: identity
    for i, L in enumerate(length.tolist()):
        flat = x[i, :, :L].permute(0, 2, 3, 1).reshape(1, -1, L)
        ref = F.interpolate(flat, size=40, mode="linear", align_corners=False).view(C, V, M, 40).permute(0, 3, 1, 2)
        assert torch.allclose(view.x[i], ref, atol=1e-5)


@pytest.mark.parametrize("min_frames", [None, 12, 24])
def test_crop_resize_covers_at_least_the_minimum(min_frames):
    x, mask, length = batch(length=(40, 40, 40, 40))  # a 40-frame window, all valid
    for seed in range(5):
        view = temporal_crop_resize(x, mask, length, gen(seed), scale=(0.1, 0.1), min_frames=min_frames)
        m = 40 if min_frames is None else min_frames  # None means the window length (40 here)
        span = view.x[:, 0].amax(dim=(1, 2, 3)) - view.x[:, 0].amin(dim=(1, 2, 3))  # frames covered
        assert (span >= min(m - 1, m * 39 / 40) - 1e-4).all()
        assert (view.x[:, 0] >= 0).all() and (view.x[:, 0] <= 39).all()


def test_crop_resize_mask_follows_the_frames():
    x, mask, length = batch(length=(30, 20, 35, 12))
    mask[:, 10:] = False  # frames from 10 on unobserved
    mask_f = mask.float() * 0.7
    for seed in range(3):
        view = temporal_crop_resize(x, mask, length, gen(seed), scale=(0.5, 1.0), min_frames=8)
        ramp = view.x[:, 0]  # source frame position of every output value
        assert torch.equal(view.mask, (ramp <= 9 + 1e-5))
        view_f = temporal_crop_resize(x, mask_f, length, gen(seed), scale=(0.5, 1.0), min_frames=8)
        assert view_f.mask.dtype == torch.float32 and torch.equal(view_f.mask > 0, view.mask)


def test_joint_corruption_touches_at_most_15_joints_and_zeroes_exactly_15():
    x = torch.randn(N, C, T, V, M, generator=gen()) + 5.0
    out = joint_corruption(x, gen(1))
    changed = (out != x).any(dim=(1, 2, 4))  # (N, V)
    assert out.shape == x.shape and (changed.sum(1) <= 15).all()
    zeroed = joint_corruption(x, gen(1), zero_prob=1.0)
    assert ((zeroed == 0).all(dim=(1, 2, 4)).sum(1) == 15).all()
    assert joint_corruption(x, gen(1), num_joints=100, zero_prob=1.0).abs().sum() == 0  # capped at V


def test_shear_keeps_zero_and_has_unit_diagonal():
    assert shear(torch.zeros(N, C, T, V, M), gen()).abs().sum() == 0
    x = torch.randn(N, C, T, V, M, generator=gen())
    assert torch.equal(shear(x, gen(), shear_range=0.0), x)
    e0 = torch.zeros(1, C, 1, 1, 1)
    e0[0, 0] = 1.0
    column = shear(e0, gen(3)).flatten()
    assert column[0] == 1.0 and column[1:].abs().max() <= 1.0  # first column of S


def test_flip_twice_is_identity_and_mirrors_pairs():
    x, mask, _ = batch()
    mask[:, :, UNIFIED_30.index("hand_left")] = False
    perm = UNIFIED_30.flip_permutation
    fx, fm = horizontal_flip(x, mask, perm)
    left, right = UNIFIED_30.index("hand_left"), UNIFIED_30.index("hand_right")
    assert torch.equal(fx[:, 0, :, right], -x[:, 0, :, left]) and torch.equal(fx[:, 1:, :, right], x[:, 1:, :, left])
    assert not fm[:, :, right].any() and fm[:, :, left].all()
    xx, mm = horizontal_flip(fx, fm, perm)
    assert torch.equal(xx, x) and torch.equal(mm, mask)
    only_first = torch.tensor([True, False, False, False])
    px, _ = horizontal_flip(x, mask, perm, apply=only_first)
    assert torch.equal(px[0], fx[0]) and torch.equal(px[1:], x[1:])


def test_rotation_keeps_height_and_horizontal_distance():
    x = torch.randn(N, C, T, V, M, generator=gen())
    out = rotate_vertical(x, torch.tensor([0.0, 0.5, -1.0, 3.0]))
    assert torch.equal(out[0], x[0]) and torch.equal(out[:, 1], x[:, 1])
    assert torch.allclose(out[:, 0] ** 2 + out[:, 2] ** 2, x[:, 0] ** 2 + x[:, 2] ** 2, atol=1e-5)


def test_mpct_is_deterministic_and_keeps_shapes():
    x, mask, length = batch(length=(40, 33, 20, 64), t_max=64)
    mpct = MPCT(MPCTConfig(flip_prob=0.5, rotate_max_deg=30.0), UNIFIED_30.flip_permutation)
    a, b = mpct(x, mask, length, gen(7)), mpct(x, mask, length, gen(7))
    assert torch.equal(a.x, b.x) and torch.equal(a.mask, b.mask) and torch.equal(a.length, b.length)
    assert a.x.shape == x.shape and a.mask.shape == mask.shape and a.mask.dtype == mask.dtype
    assert not torch.equal(mpct(x, mask, length, gen(8)).x, a.x)
    with pytest.raises(ValueError):
        MPCT(MPCTConfig(flip_prob=0.5))  # no flip permutation
    with pytest.raises(ValueError):
        MPCTConfig(crop_scale=(0.0, 1.0))


# --- pretrainer -----------------------------------------------------------------------
class TinyEncoder(nn.Module):
    """A real, small dense encoder: per-frame and per-joint linear maps with the modality switch."""

    def __init__(self, d: int = 16, c: int = C, t: int = T, v: int = V, m: int = M):
        super().__init__()
        self.parents = torch.as_tensor(UNIFIED_30.parent_indices)
        self.temporal = nn.Sequential(nn.Linear(m * v * c, d), nn.LayerNorm(d), nn.ReLU(), nn.Linear(d, d))
        self.spatial = nn.Sequential(nn.Linear(t * c, d), nn.LayerNorm(d), nn.ReLU(), nn.Linear(d, d))
        self.calls: list[tuple[str, int]] = []

    def forward(self, x, modality=None):
        modality = modality or "joint"
        self.calls.append((modality, x.shape[0]))
        if modality == "motion":
            x = torch.cat([x[:, :, 1:] - x[:, :, :-1], torch.zeros_like(x[:, :, :1])], 2)
        elif modality == "bone":
            x = x - x[:, :, :, self.parents]
        n, c, t, v, m = x.shape
        temporal = self.temporal(x.permute(0, 2, 4, 3, 1).reshape(n, t, m * v * c))
        spatial = self.spatial(x.permute(0, 4, 3, 2, 1).reshape(n, m * v, t * c))
        return temporal, spatial, torch.cat([temporal.amax(1), spatial.amax(1)], -1)


SMALL = ProjectorConfig(width=32, out_dim=32, instance_width=32, instance_out_dim=48)


def pretrain_batch(n: int = 12):
    g = gen(11)
    x = torch.randn(n, C, T, V, M, generator=g)
    x[:, :, :, :, 1] = 0.0  # second body absent
    mask = torch.ones(n, T, V, M, dtype=torch.bool)
    mask[..., 1] = False
    return x, mask, torch.randint(8, T + 1, (n,), generator=g)


def test_pretrainer_steps_lower_the_loss():
    torch.manual_seed(0)
    model = USDRLPretrainer(TinyEncoder(), 16, PretrainConfig(projector=SMALL, augment=MPCTConfig(min_crop_frames=8)))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    x, mask, length = pretrain_batch()
    losses = []
    for _ in range(12):
        out = model(x, mask, length, gen(5))  # same views each step: a fixed objective
        optimiser.zero_grad()
        out["total"].backward()
        optimiser.step()
        losses.append(out["total"].item())
    assert {"total", "inv", "vc", "xcorr", "inv_t", "vc_s", "xcorr_i", "mgfd"} <= set(out)
    assert all(np.isfinite(losses)) and losses[-1] < 0.9 * losses[0]
    assert model.encoder.calls[0] == ("joint", 4 * 12)  # four views in one encoder call


@pytest.mark.parametrize("views", ["anchor", "all"])
def test_multimodal_consistency_terms(views):
    torch.manual_seed(0)
    config = PretrainConfig(
        projector=SMALL, modalities=("joint", "motion", "bone"), cross_modal_views=views, cross_modal_weight=0.5,
        anchor_augment=MILD_ANCHOR,
    )  # fmt: skip
    model = USDRLPretrainer(TinyEncoder(), 16, config)
    x, mask, length = pretrain_batch(6)
    out = model(x, mask, length, gen(1))
    out["total"].backward()
    expected_batch = 6 if views == "anchor" else 24
    assert model.encoder.calls == [("joint", 24), ("motion", expected_batch), ("bone", expected_batch)]
    assert out["total"].item() == pytest.approx(out["mgfd"].item() + 0.5 * out["xmodal"].item(), rel=1e-5)
    assert out["xmodal"].item() == pytest.approx(
        5 * out["xmodal_inv"].item() + out["xmodal_vc"].item() + 1e-3 * out["xmodal_xcorr"].item(), rel=1e-5
    )
    assert (out["xmodal_vc"].item() > 0) == (views == "anchor")
    assert ("mgfd_bone" in out) == (views == "all")
    assert model.encoder.temporal[0].weight.grad is not None


def test_pretrainer_rejects_bad_features_and_config():
    model = USDRLPretrainer(TinyEncoder(d=16), 8, PretrainConfig(projector=SMALL))
    x, mask, length = pretrain_batch(4)
    with pytest.raises(ValueError, match="temporal features"):
        model(x, mask, length, gen())
    with pytest.raises(ValueError):
        PretrainConfig(modalities=("joint", "depth"))
    with pytest.raises(ValueError):
        PretrainConfig(pool="sum")
