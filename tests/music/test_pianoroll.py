import numpy as np
import pytest
from hypothesis import given, settings

from segue.music.pianoroll import Roll, from_pianoroll, to_pianoroll
from segue.music.piece import make_notes
from tests.strategies import note_tuples, pieces


@settings(max_examples=200, deadline=None)
@given(pieces())
def test_roll_round_trip_is_exact(piece):
    roll = to_pianoroll(piece.notes, len(piece.parts))
    assert note_tuples(from_pianoroll(roll)) == note_tuples(piece.notes)


def test_repeated_notes_survive_through_the_onset_plane():
    notes = make_notes([0, 2, 4], [2, 2, 4], 60)
    roll = to_pianoroll(notes, 1)
    assert roll.frames[0, :8, 60].all()
    back = from_pianoroll(roll)
    assert note_tuples(back) == [(0, 60, 0, 2), (0, 60, 2, 2), (0, 60, 4, 4)]
    # Without the onset plane the three notes would merge into one.
    merged = from_pianoroll(Roll(roll.frames, np.zeros_like(roll.onsets)))
    assert note_tuples(merged) == [(0, 60, 0, 8)]


def test_roll_shape_pitch_window_and_cut():
    notes = make_notes([0, 4, 6], [4, 8, 1], [50, 70, 90], track=[0, 1, 1])
    roll = to_pianoroll(notes, 2, n_steps=8, lowest=48, highest=83)
    assert roll.shape == (2, 8, 36)
    assert roll.frames[0, 0:4, 2].all() and not roll.frames[0, 4:, 2].any()
    assert roll.frames[1, 4:8, 22].all()  # cut at n_steps
    assert roll.frames.sum() == 8  # the pitch 90 note lies outside the window
    back = from_pianoroll(roll)
    assert note_tuples(back) == [(0, 50, 0, 4), (1, 70, 4, 4)]


def test_onset_on_silent_cell_is_ignored():
    frames = np.zeros((1, 4, 2), bool)
    onsets = np.zeros_like(frames)
    onsets[0, 1, 0] = True
    assert len(from_pianoroll(Roll(frames, onsets))) == 0


def test_huge_roll_is_refused_before_allocation():
    notes = make_notes([0], [1], [60])
    with pytest.raises(ValueError, match="too large"):
        to_pianoroll(notes, 1000, n_steps=10_000_000)
