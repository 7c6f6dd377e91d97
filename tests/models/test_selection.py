"""Dataset references: the split syntax shared by training, the corpus and evaluation."""

import numpy as np
import pytest

from foundation.errors import SkelstreamError
from models.datasets.selection import DatasetRef
from models.skeleton.sequence import SkeletonSequence


def _sequence(subject, **attributes):
    return SkeletonSequence(joints=np.zeros((2, 1, 20, 3), np.float32), mask=np.ones((2, 1, 20), np.float32),
                            layout="kinect_v1_20", fps=15.0, frame_ids=np.arange(2), name=f"s{subject}",
                            subject=subject, attributes=attributes)  # fmt: skip


SEQUENCES = [_sequence(1, view="1"), _sequence(2, view="2"), _sequence(3, view="1"), _sequence(None, view="3")]


@pytest.mark.parametrize(
    ("text", "subjects"),
    [
        ("nw-ucla", [1, 2, 3, None]),
        ("nw-ucla:1,3", [1, 3]),
        ("nw-ucla:!2", [1, 3, None]),
        ("nw-ucla:view=1", [1, 3]),
        ("nw-ucla:view!=1", [2, None]),
        ("nw-ucla:view=1,2;!3", [1, 2]),
        ("nw-ucla:1,2;view=2", [2]),
    ],
)
def test_a_reference_selects_by_subject_and_attribute(text, subjects):
    ref = DatasetRef.parse(text)
    assert ref.name == "nw-ucla"
    assert [s.subject for s in ref.select(SEQUENCES)] == subjects
    assert DatasetRef.parse(str(ref)) == ref  # the canonical text parses back to the same selection


@pytest.mark.parametrize("text", ["", ":1", "msrc12:a,b", "msrc12:view=", "msrc12:=1"])
def test_malformed_references_name_themselves(text):
    with pytest.raises(SkelstreamError, match="dataset reference"):
        DatasetRef.parse(text)
