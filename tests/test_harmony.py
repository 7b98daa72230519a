"""Harmony and line measures on small hand-made grids."""

import math

import numpy as np

from segue import harmony
from segue.music.piece import NOTE_DTYPE


def grid(*voices: list[int]) -> np.ndarray:
    return np.array(voices, dtype=np.int64)


def test_consonance_counts_every_pair_of_sounding_voices_at_every_step():
    # C major triad held (all consonant), then a cluster C-D-E (C-D and D-E seconds, C-E a third)
    chord = grid([67, 64], [64, 62], [60, 60])
    assert math.isclose(harmony.consonance(chord), (3 + 1) / 6)
    # a silent voice takes no part; one voice alone: no pairs
    assert math.isclose(harmony.consonance(grid([67, -1], [-1, -1], [60, 60])), 1.0)
    assert math.isnan(harmony.consonance(grid([60, 62], [-1, -1])))


def test_the_fourth_is_consonant_between_upper_voices_only():
    upper_fourth = grid([72], [67], [60])  # G-C between the upper voices, over C in the bass
    over_bass = grid([65], [60])  # F over C in the bass: a fourth above the bass
    assert harmony.consonance(upper_fourth) == 1.0
    assert harmony.consonance(over_bass) == 0.0


def test_interval_histograms():
    chord = grid([76], [67], [64], [48])  # E5 G4 E4 C3
    adjacent = harmony.adjacent_intervals(chord)
    assert adjacent[9] == 1 and adjacent[3] == 1 and adjacent[4] == 1 and adjacent.sum() == 3  # 6th, 3rds
    above = harmony.intervals_above_bass(chord)
    assert above[4] == 2 and above[7] == 1 and above.sum() == 3  # E twice, G once above C
    assert harmony.interval_distance(adjacent, adjacent) == 0.0
    assert harmony.interval_distance(above, np.eye(12, dtype=np.int64)[0]) == 1.0


def test_non_chord_tones_on_strong_beats():
    bar = 8  # strong beats at steps 0 and 4
    steps = 8
    triad = [[72] * steps, [67] * steps, [64] * steps, [48] * steps]
    assert harmony.non_chord_tones(grid(*triad), bar) == 0.0
    with_second = [list(v) for v in triad]
    with_second[0][4] = 74  # a D over C major on the second strong beat
    with_second[0][1] = 74  # off the beat: not counted
    assert math.isclose(harmony.non_chord_tones(grid(*with_second), bar), 1 / 8)
    assert math.isnan(harmony.non_chord_tones(grid([-1] * steps), bar))


def test_sounding_share_and_durations():
    g = grid([60, 60, -1, -1], [55, 55, 55, 55])
    assert harmony.sounding_share(g).tolist() == [0.5, 1.0]
    notes = np.zeros(3, dtype=NOTE_DTYPE)
    notes["duration"] = [2, 4, 6]
    notes["track"] = [0, 0, 1]
    durations = harmony.mean_durations(notes, 3)
    assert durations[:2].tolist() == [3.0, 6.0] and math.isnan(durations[2])
