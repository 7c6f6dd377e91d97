"""`models.evaluation.frame_errors`: kinds of wrong frames and their distance to the true boundaries, by hand."""

import numpy as np
import pytest

from models.evaluation.frame_errors import frame_errors


def test_kinds_and_edges_by_hand():
    #              frame:  0  1  2  3  4  5  6  7  8  9
    true = np.array([0, 0, 1, 1, 1, 0, 0, 0, 0, 0])  # edges between 1|2 and 4|5
    published = np.array([0, 1, 1, 2, 1, 0, 0, 0, 0, 3])  # 1: named at the edge, 3: confused, 9: named far away
    quiet = (np.zeros(6, int), np.array([0, 0, 2, 2, 0, 0]))  # a second sequence: action 2 missed
    result = frame_errors([(published, true), quiet], edge_frames=(1, 2, 4))
    assert (result["frames"], result["errors"]) == (16, 5)
    assert (result["action_missed"], result["background_named"], result["actions_confused"]) == (2, 2, 1)
    # distances: frame 1 → 0.5, frame 3 → 1.5, frame 9 → 4.5; the missed frames 2 and 3 of the second
    # sequence → 0.5 each (its own edges, never the first sequence's)
    assert result["near_edges"] == {"1": 3 / 5, "2": 4 / 5, "4": 4 / 5}
    assert result["accuracy_forgiving_edges"] == {"1": 1 - 2 / 16, "2": 1 - 1 / 16, "4": 1 - 1 / 16}


def test_a_sequence_without_boundaries_has_no_error_near_one():
    result = frame_errors([(np.array([0, 4, 4, 0]), np.zeros(4, int))])
    assert result["background_named"] == 2 and set(result["near_edges"].values()) == {0.0}


def test_no_errors_forgive_nothing():
    labels = np.array([0, 1, 1, 0])
    result = frame_errors([(labels, labels)])
    assert result["errors"] == 0 and result["near_edges"]["4"] == 0.0 and result["accuracy_forgiving_edges"]["4"] == 1.0


def test_mismatched_labels_raise():
    with pytest.raises(ValueError, match="equal 1-D"):
        frame_errors([(np.zeros(3, int), np.zeros(4, int))])
