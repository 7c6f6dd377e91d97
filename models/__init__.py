"""Skeleton layouts, dataset readers, the DSTE model and its training code.

`models` never imports `stream`; the streaming runtime builds on it.
"""
