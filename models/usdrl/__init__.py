"""USDRL self-supervised pretraining: MG-FD loss, projectors, MPCT views, the pretrainer.

Reference: Weng et al., "USDRL: Unified Skeleton-Based Dense Representation
Learning with Multi-Grained Feature Decorrelation", AAAI 2025
(official code: github.com/wengwanjiang/USDRL). DESIGN.md §3 is the spec;
where the official code differs, each module says so and why.

- `models.usdrl.losses`: the MG-FD loss terms, each a small public function.
- `models.usdrl.projector`: the three domain projectors (3-layer MLPs with BN).
- `models.usdrl.augment`: MPCT views on torch batches, plus optional flip/rotation.
- `models.usdrl.pretrain`: `USDRLPretrainer`, wrapping any dense encoder.
"""
