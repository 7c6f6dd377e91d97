"""Synthetic, labelled skeleton sequences in ``unified_30`` for demos, tests and load tests.

Kinematic, not learned: a parametric body (`skeleton`), the UTKinect action
vocabulary as motion primitives (`actions`) and a seeded scene generator
(`generator`). Never a substitute for real data in reported accuracy.
"""
