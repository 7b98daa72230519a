import numpy as np
import pytest

from segue.data.augment import allowed_shifts, random_transpose, transpose, voice_ranges
from segue.music.piece import make_notes


def test_shifts_keep_every_voice_in_its_range():
    soprano_alto = make_notes([0, 0, 4, 4], [4] * 4, [72, 64, 79, 60], track=[0, 1, 0, 1])
    ranges = voice_ranges([soprano_alto, make_notes([0, 0], [1, 1], [60, 81], track=[1, 0])], 2)
    assert ranges.tolist() == [[72, 81], [60, 64]]
    shifts = allowed_shifts(soprano_alto, ranges, max_shift=6)
    assert shifts == [0]  # the alto spans its whole range already
    narrow = make_notes([0, 0], [4, 4], [76, 62], track=[0, 1])
    assert allowed_shifts(narrow, ranges) == [-2, -1, 0, 1, 2]
    rng = np.random.default_rng(0)
    for _ in range(20):
        moved, shift = random_transpose(narrow, ranges, rng)
        assert shift in range(-2, 3)
        for track in (0, 1):
            pitches = moved["pitch"][moved["track"] == track]
            assert ranges[track, 0] <= pitches.min() and pitches.max() <= ranges[track, 1]


def test_transpose_refuses_to_leave_midi_range():
    with pytest.raises(ValueError):
        transpose(make_notes([0], [1], [126]), 3)
    assert transpose(make_notes([0], [1], [60]), -12)["pitch"].tolist() == [48]
