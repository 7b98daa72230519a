import numpy as np

from segue.music.piece import make_notes
from segue.music.voices import is_monophonic, split_voices
from tests.strategies import note_tuples

CENTRES = [70.0, 62.0, 55.0, 46.0]


def test_four_monophonic_tracks_become_voices_by_register():
    notes = make_notes([0, 0, 0, 0, 4], [4, 4, 4, 8, 4], [48, 72, 60, 64, 74], 80, [3, 0, 2, 1, 0])
    split = split_voices(notes, 4, 16, CENTRES)
    assert split.rule == "tracks by register"
    assert split.sources == (0, 1, 2, 3)
    assert note_tuples(split.notes)[0] == (0, 72, 0, 4)
    shuffled = notes.copy()
    shuffled["track"] = np.array([2, 3, 0, 1])[notes["track"]]  # same music, tracks in another order
    assert split_voices(shuffled, 4, 16, CENTRES).sources == (2, 3, 0, 1)


def test_one_piano_track_is_split_by_register():
    # A C major chord held for a bar, then a melody over a bass note.
    notes = make_notes([0, 0, 0, 0, 16, 20, 16], [16, 16, 16, 16, 4, 4, 16], [48, 55, 64, 72, 74, 76, 43])
    split = split_voices(notes, 4, 32, CENTRES)
    assert split.rule == "split by register" and split.sources == (0, 0, 0, 0)
    voices = {v: note_tuples(split.notes[split.notes["track"] == v]) for v in range(4)}
    assert voices[0] == sorted([(0, 72, 0, 16), (0, 74, 16, 4), (0, 76, 20, 4)])
    assert voices[3] == sorted([(3, 48, 0, 16), (3, 43, 16, 16)])
    assert [n[1] for n in voices[1]] == [64] and [n[1] for n in voices[2]] == [55]


def test_more_notes_than_voices_keep_top_bottom_and_spread_inner():
    notes = make_notes([0] * 6, [4] * 6, [40, 50, 55, 60, 64, 80])
    split = split_voices(notes, 4, 4, CENTRES)
    assert sorted(split.notes["pitch"].tolist(), reverse=True) == [80, 60, 55, 40] or sorted(
        split.notes["pitch"].tolist(), reverse=True
    ) == [80, 64, 50, 40]
    assert split.notes["pitch"][split.notes["track"] == 0].tolist() == [80]
    assert split.notes["pitch"][split.notes["track"] == 3].tolist() == [40]


def test_repeated_notes_stay_separate_in_a_voice():
    notes = make_notes([0, 2, 0], [2, 2, 4], [72, 72, 48])
    split = split_voices(notes, 2, 4, [70.0, 48.0])
    assert note_tuples(split.notes) == [(0, 72, 0, 2), (0, 72, 2, 2), (1, 48, 0, 4)]


def test_is_monophonic():
    assert is_monophonic(make_notes([0, 4], [4, 4], [60, 62]), 8)
    assert not is_monophonic(make_notes([0, 0], [4, 4], [60, 64]), 8)


def test_a_single_melodic_line_is_the_top_voice_whatever_its_register():
    # a tune that leaps from the bass's register to the soprano's: one voice, not four
    notes = make_notes([0, 4, 8, 12], [4, 4, 4, 4], [45, 72, 50, 76], 80, [2, 2, 2, 2])
    split = split_voices(notes, 4, 16, CENTRES)
    assert split.rule == "one line: the top voice" and split.sources == (2, -1, -1, -1)
    assert note_tuples(split.notes) == sorted([(0, 45, 0, 4), (0, 72, 4, 4), (0, 50, 8, 4), (0, 76, 12, 4)])
    # two lines in one track are not one line: split by register as before
    chords = make_notes([0, 0, 4, 4], [4, 4, 4, 4], [45, 72, 50, 76], 80, [2, 2, 2, 2])
    assert split_voices(chords, 4, 16, CENTRES).rule == "split by register"


def test_fewer_monophonic_tracks_than_voices_keep_a_voice_each_and_leave_the_rest_free():
    # a cantus, a tenor and a bassus: the altus has not come in yet
    notes = make_notes([0, 4, 0, 0, 8], [4, 4, 8, 16, 8], [72, 71, 55, 45, 57], 80, [1, 1, 2, 0, 2])
    split = split_voices(notes, 4, 16, CENTRES, waiting=1)
    assert split.rule == "tracks by register, voices left free"
    assert split.sources == (1, -1, 2, 0)
    assert note_tuples(split.notes) == sorted(
        [(0, 72, 0, 4), (0, 71, 4, 4), (2, 55, 0, 8), (2, 57, 8, 8), (3, 45, 0, 16)]
    )
    # with no part still to come in (a trio), no voice is left free: pooled as before
    trio = split_voices(notes, 4, 16, CENTRES)
    assert trio.rule == "split by register"
    # two lines high up take the two upper voices, not the outer ones
    duet = make_notes([0, 0], [8, 8], [74, 63], 80, [0, 1])
    assert split_voices(duet, 4, 8, CENTRES, waiting=2).sources == (0, 1, -1, -1)
    assert split_voices(duet, 4, 8, CENTRES, waiting=1).rule == "split by register"  # two free, one to come
    # a track with chords among them: pooled and split by register as before
    chords = make_notes([0, 0, 0, 0], [8, 8, 8, 8], [74, 63, 55, 45], 80, [0, 1, 1, 2])
    assert split_voices(chords, 4, 8, CENTRES, waiting=3).rule == "split by register"
