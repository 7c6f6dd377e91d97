"""Benchmarks: each prints a table, writes JSON with the machine it ran on, and plots where useful.

Run from the repository root, e.g. ``.venv/bin/python -m benchmarks.model_size``.
"""
