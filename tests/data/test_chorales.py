"""The bundled Bach chorales: their splits and an exact round trip for every one."""

from collections import Counter

import pytest

from segue.data.chorales import base_name, chorales_dir, load_chorales, load_splits, split_indices
from segue.music.midi import midi_bytes, read_midi
from segue.music.pianoroll import from_pianoroll, to_pianoroll
from segue.training.windows import voice_ranges
from tests.shifts import allowed_shifts
from tests.strategies import note_tuples


@pytest.fixture(scope="module")
def chorales():
    return load_chorales()


def test_splits_are_disjoint_cover_the_dataset_and_hold_enough_test_pieces(chorales):
    splits = load_splits()
    assert set(splits) == {"train", "valid", "test"}
    named = Counter(name for names in splits.values() for name in names)
    assert max(named.values()) == 1, "a chorale is in two splits"
    in_dataset = {base_name(m["name"]) for m in chorales.metas}
    assert set(named) == in_dataset
    assert all(name.startswith("bwv") for name in named)
    assert len(splits["test"]) >= max(30, 0.1 * len(named))
    sizes = {s: len(split_indices(chorales, s)) for s in splits}
    assert sum(sizes.values()) == len(chorales)


def test_every_chorale_has_four_voices_a_key_and_complete_bars(chorales):
    assert len(chorales) >= 300
    for piece in chorales:
        assert [p.name for p in piece.parts] == ["Soprano", "Alto", "Tenor", "Bass"], piece.name
        assert piece.complete_bars >= 1 and piece.key is not None
    with_fermatas = sum(1 for m in chorales.metas if m["fermatas"])
    assert with_fermatas > 0.9 * len(chorales)


def test_every_chorale_round_trips_exactly_through_roll_and_midi(chorales):
    for piece in chorales:
        expected = note_tuples(piece.notes)
        assert note_tuples(from_pianoroll(to_pianoroll(piece.notes, 4))) == expected, piece.name
        (back,) = read_midi(midi_bytes(piece)).pieces
        assert note_tuples(back.notes) == expected, piece.name
        assert (back.meter, back.pickup, back.parts, back.key) == (
            piece.meter,
            piece.pickup,
            piece.parts,
            piece.key,
        ), piece.name


def test_transposition_keeps_chorale_voices_in_their_ranges(chorales):
    train = [chorales.notes(i) for i in split_indices(chorales, "train")]
    ranges = voice_ranges(train, 4)
    assert all(ranges[t, 0] < ranges[t, 1] for t in range(4))
    assert ranges[0, 1] > ranges[3, 1] and ranges[0, 0] > ranges[3, 0]  # soprano above bass
    shifts = [allowed_shifts(notes, ranges) for notes in train[:50]]
    assert all(0 in s for s in shifts) and sum(len(s) for s in shifts) > 50 * 3


def test_the_bundled_data_is_small():
    size = sum(p.stat().st_size for p in chorales_dir().rglob("*") if p.is_file())
    assert size < 5 * 2**20
