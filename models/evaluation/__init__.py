"""Evaluation metrics: frame accuracy and AP, detected segments, segment mAP (PKU-MMD), clip accuracy, confusion.

Everything here is numpy only (matplotlib, imported lazily, for the confusion plot).
Class index 0 is background by convention; the functions that need it take
``background=0``.

Typical detection evaluation::

    from models.evaluation.segments import frames_to_segments, labels_to_segments
    from models.evaluation.segment_map import segment_map

    detections = {name: frames_to_segments(probs[name], threshold=0.5, min_length=5) for name in probs}
    ground_truths = {name: labels_to_segments(frame_labels[name]) for name in frame_labels}
    segment_map(detections, ground_truths)  # {0.1: ..., 0.3: ..., 0.5: ...}  (mAP_a)
"""
