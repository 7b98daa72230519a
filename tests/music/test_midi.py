from pathlib import Path

import numpy as np
import pytest
import symusic
from hypothesis import given, settings

from segue.errors import MidiError
from segue.music import midi as midi_module
from segue.music.midi import midi_bytes, read_midi, write_midi
from segue.music.piece import KeySignature, Meter, Part, Piece, make_notes
from segue.music.timing import midi_seconds, tempo_segments
from tests.smf import TrackBuilder, smf
from tests.strategies import note_tuples, pieces

ALL_FIELDS = ("track", "pitch", "onset", "duration", "velocity")


def used_parts(piece: Piece) -> tuple[Part, ...]:
    return tuple(piece.parts[i] for i in sorted(set(piece.notes["track"].tolist())))


@settings(max_examples=150, deadline=None)
@given(pieces())
def test_midi_round_trip_is_exact(piece):
    back = read_midi(midi_bytes(piece)).pieces
    assert len(back) == 1
    (got,) = back
    assert note_tuples(got.notes, ALL_FIELDS) == note_tuples(_renumber(piece).notes, ALL_FIELDS)
    assert (got.meter, got.pickup, got.complete_bars) == (piece.meter, piece.pickup, piece.complete_bars)
    assert got.parts == used_parts(piece)
    assert got.keys == piece.keys
    # Tempos are stored as microseconds per quarter note, exactly.
    assert got.tempos == piece.tempos


def _renumber(piece: Piece) -> Piece:
    """Tracks without notes are dropped on reading, so renumber the rest."""
    used = sorted(set(piece.notes["track"].tolist()))
    notes = piece.notes.copy()
    notes["track"] = np.searchsorted(used, notes["track"])
    return piece.with_notes(notes, parts=tuple(piece.parts[i] for i in used))


def four_four(*tracks: TrackBuilder) -> bytes:
    tracks[0].meter(0, 4, 4)
    return smf(list(tracks))


def test_type0_file_with_several_channels_becomes_several_tracks():
    track = TrackBuilder().program(0, 40, 0).program(0, 0, 1)
    for i in range(8):
        track.note(i * 480, 480, 72, channel=0).note(i * 480, 480, 48, channel=1)
    (piece,) = read_midi(four_four(track)).pieces
    assert [p.program for p in piece.parts] == [40, 0]
    assert note_tuples(piece.track_notes(0))[0] == (0, 72, 0, 4)
    assert set(piece.track_notes(1)["pitch"].tolist()) == {48}
    assert piece.complete_bars == 2


def test_drums_are_dropped_and_counted_unless_kept():
    track = TrackBuilder()
    for i in range(8):
        track.note(i * 480, 480, 60).note(i * 480, 240, 36, channel=9)
    data = four_four(track)
    result = read_midi(data)
    assert result.counts["drum_notes"] == 8
    assert len(result.pieces[0].parts) == 1
    kept = read_midi(data, keep_drums=True).pieces[0]
    assert [p.is_drum for p in kept.parts] == [False, True]
    assert midi_bytes(kept) and read_midi(midi_bytes(kept), keep_drums=True).pieces[0].parts[1].is_drum


def test_tempo_changes_are_kept_and_do_not_move_the_grid():
    track = TrackBuilder().tempo(0, 500_000).tempo(1920, 1_000_000)
    for i in range(8):
        track.note(i * 480, 480, 60 + i)
    (piece,) = read_midi(four_four(track)).pieces
    assert piece.tempos == ((0, 500_000), (16, 1_000_000))
    assert piece.notes["onset"].tolist() == [i * 4 for i in range(8)]


def test_tempo_segments_say_when_each_step_sounds():
    # 120 bpm for half a bar, then a tempo of 0 (no time passes), then 60 bpm; 480 ticks per beat
    track = TrackBuilder().tempo(960, 0).tempo(1920, 1_000_000)
    for i in range(8):
        track.note(i * 480, 480, 60 + i)
    data = four_four(track)
    segments = tempo_segments(data, steps_per_beat=4)
    assert segments == [(0.0, 0.0, 0.125), (16.0, 1.0, 0.25)]  # 8 steps of 1/8 s, 8 of none, then 1/4 s each
    step, seconds, pace = segments[-1]
    assert seconds + (32 - step) * pace == pytest.approx(midi_seconds(data))  # as it sounds
    # the last tempo of two at one tick holds; a file without tempo plays at 120 bpm
    both = TrackBuilder().tempo(0, 1_000_000).tempo(0, 250_000).note(0, 480, 60)
    assert tempo_segments(four_four(both), steps_per_beat=2) == [(0.0, 0.0, 0.125)]
    assert tempo_segments(four_four(TrackBuilder().note(0, 480, 60)))[0] == (0.0, 0.0, 0.125)


def test_off_grid_notes_round_to_the_nearest_step_and_short_ones_last_one_step():
    track = TrackBuilder().note(70, 400, 60).note(1900, 10, 62).note(3840, 3840, 64)
    result = read_midi(four_four(track))
    (piece,) = result.pieces
    # 70 ticks is 0.58 of a 120-tick step: rounds to step 1; the first bar is whole all the same.
    assert note_tuples(piece.notes) == [(0, 60, 1, 3), (0, 62, 16, 1), (0, 64, 32, 32)]
    assert piece.pickup == 0
    assert result.counts["stretched"] == 1


def test_zero_length_and_out_of_range_notes_are_dropped_and_counted():
    track = TrackBuilder().note(0, 1920, 60).note(480, 0, 62).note(480, 480, 127)
    result = read_midi(four_four(track), lowest=21, highest=108)
    assert note_tuples(result.pieces[0].notes) == [(0, 60, 0, 16)]
    assert result.counts["zero_length"] == 1
    assert result.counts["out_of_range"] == 1


def test_overlapping_notes_of_one_pitch_are_cut_and_duplicates_merged():
    track = TrackBuilder().note(0, 960, 60).note(480, 1440, 60).note(480, 240, 60).note(0, 1920, 64)
    result = read_midi(four_four(track))
    assert note_tuples(result.pieces[0].notes) == [(0, 60, 0, 4), (0, 60, 4, 12), (0, 64, 0, 16)]
    assert result.counts["overlap_cut"] == 1
    assert result.counts["duplicate"] == 1


def test_a_meter_change_splits_the_piece():
    track = TrackBuilder().meter(0, 4, 4).meter(3840, 3, 4).key(0, -3, True)
    for i in range(8):
        track.note(i * 480, 480, 60)
    for i in range(9):
        track.note(3840 + i * 480, 480, 67)
    result = read_midi(smf([track]), name="song.mid")
    first, second = result.pieces
    assert (first.name, first.meter, first.complete_bars) == ("song", Meter(4, 4), 2)
    assert (second.name, second.meter, second.complete_bars) == ("song#2", Meter(3, 4), 3)
    assert second.notes["onset"].min() == 0 and set(second.notes["pitch"].tolist()) == {67}
    assert second.keys == ((0, KeySignature(-3, True)),)
    assert result.counts["meter_split"] == 1


def test_a_first_bar_that_begins_with_a_rest_is_complete_and_empty_bars_are_dropped():
    track = TrackBuilder()
    track.note(2 * 1920 + 1440, 480, 67)  # two empty bars, then a bar whose music starts on beat 4
    for i in range(4):
        track.note(3 * 1920 + i * 480, 480, 72)
    result = read_midi(four_four(track))
    (piece,) = result.pieces
    assert piece.pickup == 0 and piece.first_bar == 0 and piece.complete_bars == 2
    assert note_tuples(piece.notes)[0] == (0, 67, 12, 4)
    assert result.counts["leading_empty_bars"] == 2


def test_four_bars_whose_first_begins_with_a_rest_are_four_complete_bars():
    track = TrackBuilder()
    for bar in range(4):  # each bar: a quarter rest on the downbeat, then three quarters
        for beat in (1, 2, 3):
            track.note(bar * 1920 + beat * 480, 480, 60 + beat)
    (piece,) = read_midi(four_four(track)).pieces
    assert (piece.pickup, piece.complete_bars) == (0, 4)


@pytest.mark.parametrize(
    ("meter", "pickup", "short"), [((4, 4), 4, (1, 4)), ((4, 4), 15, (15, 16)), ((6, 8), 2, (1, 8))]
)
def test_a_pickup_is_written_as_its_own_short_meter_and_read_back(meter, pickup, short):
    bar = Meter(*meter).bar_steps(4)
    notes = make_notes([bar - pickup, bar], [pickup, bar], [67, 72], 90)  # the upbeat, then a bar
    piece = Piece(notes, (Part("Melody", 0),), Meter(*meter), pickup=pickup)
    data = midi_bytes(piece)
    score = symusic.Score.from_midi(data)
    written = [(t.time, t.numerator, t.denominator) for t in score.time_signatures]
    assert written == [(0, *short), (pickup * 120, *meter)]
    assert score.tracks[0].notes[0].time == 0  # the file starts with the upbeat
    (back,) = read_midi(data).pieces
    assert (back.meter, back.pickup) == (piece.meter, pickup)
    assert note_tuples(back.notes) == note_tuples(notes)


def test_a_short_first_meter_is_read_as_a_pickup():
    track = TrackBuilder().meter(0, 1, 4).meter(480, 4, 4).note(0, 480, 67)
    for i in range(4):
        track.note(480 + i * 480, 480, 72)
    result = read_midi(smf([track]))
    (piece,) = result.pieces
    assert (piece.meter, piece.pickup, piece.complete_bars) == (Meter(4, 4), 4, 1)
    assert note_tuples(piece.notes)[:2] == [(0, 67, 12, 4), (0, 72, 16, 4)]
    assert not result.counts["meter_split"]


def test_a_note_across_a_meter_change_is_cut():
    track = TrackBuilder().meter(0, 2, 4).meter(1920, 3, 4).note(0, 2400, 60).note(1920, 1440, 62)
    result = read_midi(smf([track]))
    assert note_tuples(result.pieces[0].notes) == [(0, 60, 0, 16)]
    assert result.counts["cut_at_meter_change"] == 1


def test_written_midi_keeps_names_programs_meter_and_key(tmp_path: Path):
    notes = make_notes([4, 4, 16], [12, 12, 24], [72, 60, 62], 90, [0, 1, 0])
    piece = Piece(
        notes,
        (Part("Soprano", 52), Part("Bass", 32)),
        Meter(3, 4),
        pickup=8,
        tempos=((0, 750_000),),
        keys=((0, KeySignature(2, False)),),
    )
    path = write_midi(piece, tmp_path / "out.mid")
    (back,) = read_midi(path).pieces
    assert back.parts == piece.parts and back.meter == Meter(3, 4) and back.pickup == 8
    assert back.key == KeySignature(2, False) and str(back.key) == "D major"
    assert note_tuples(back.notes, ALL_FIELDS) == note_tuples(notes, ALL_FIELDS)
    assert list(tmp_path.iterdir()) == [path]


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch):
    piece = Piece(make_notes([0], [16], [60]), (Part(),))

    def broken(piece, ticks_per_beat=480):
        raise OSError("disk full")

    monkeypatch.setattr(midi_module, "midi_bytes", broken)
    with pytest.raises(OSError):
        write_midi(piece, tmp_path / "out.mid")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "not a MIDI file"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00\x00\x90", "corrupt MIDI file"),
        (smf([TrackBuilder().meter(0, 4, 4)]), "no notes"),
        (smf([TrackBuilder().note(0, 1920, 36, channel=9)]), "only drum notes"),
        (smf([TrackBuilder().note(0, 960, 60)]), "no complete bar"),
        (smf([TrackBuilder().meter(0, 5, 32).note(0, 1920, 60)]), "not a whole number of steps"),
    ],
)
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path: Path, data: bytes, reason: str):
    path = tmp_path / "bad.mid"
    path.write_bytes(data)
    with pytest.raises(MidiError) as raised:
        read_midi(path)
    message = str(raised.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


def test_missing_folder_and_huge_files_are_refused(tmp_path: Path, monkeypatch):
    with pytest.raises(MidiError, match="no such file"):
        read_midi(tmp_path / "missing.mid")
    with pytest.raises(MidiError, match="directory"):
        read_midi(tmp_path)
    path = tmp_path / "big.mid"
    path.write_bytes(smf([TrackBuilder().note(0, 1920, 60)]))
    monkeypatch.setattr(midi_module, "MAX_FILE_BYTES", 10)
    with pytest.raises(MidiError, match="larger than"):
        read_midi(path)


def test_tempo_and_key_changes_inside_dropped_empty_bars_take_effect_at_the_start():
    track = TrackBuilder().meter(0, 4, 4).tempo(0, 500_000).tempo(1920, 666_667).key(1920, 2, False)
    for i in range(8):
        track.note(2 * 1920 + i * 480, 480, 60 + i)
    (piece,) = read_midi(smf([track])).pieces
    assert piece.tempos == ((0, 666_667),)
    assert piece.keys == ((0, KeySignature(2, False)),)
    (back,) = read_midi(midi_bytes(piece)).pieces
    assert back.tempos == piece.tempos and back.keys == piece.keys


def test_a_tempo_of_zero_is_dropped_and_the_piece_can_be_written():
    track = TrackBuilder().meter(0, 4, 4).tempo(0, 0).tempo(960, 600_000)
    for beat in range(8):
        track.note(beat * 480, 480, 60 + beat)
    result = read_midi(smf([track]))
    (piece,) = result.pieces
    assert result.counts["zero_tempo"] == 1
    assert all(mspq > 0 for _, mspq in piece.tempos) and (8, 600_000) in piece.tempos
    again = read_midi(midi_bytes(piece)).pieces[0]
    assert np.array_equal(again.notes, piece.notes)


def test_a_pickup_no_time_signature_can_say_is_written_as_a_whole_bar_and_notes_before_it_are_refused():
    third = Piece(make_notes([11, 12], [1, 12], [67, 72]), (Part("Melody", 0),), Meter(4, 4), 3, pickup=1)
    score = symusic.Score.from_midi(midi_bytes(third))  # a third of a beat: no meter says it
    assert [(t.time, t.numerator) for t in score.time_signatures] == [(0, 4)]
    assert score.tracks[0].notes[0].time == 11 * 160
    early = Piece(make_notes([0, 16], [4, 16], [67, 72]), (Part("Melody", 0),), Meter(4, 4), pickup=4)
    with pytest.raises(ValueError, match="before the 4-step pickup"):
        midi_bytes(early)
