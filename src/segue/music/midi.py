"""Read and write MIDI files; the only module that imports the MIDI library (symusic).

Reading follows documented rules, each counted in :attr:`ReadResult.counts`:

* Type 0 and type 1 files are read alike; a MIDI track that holds several channels
  or programs becomes one track per (channel, program), as symusic splits them.
* Drum tracks (channel 10) are dropped (``drum_notes``) unless ``keep_drums``.
* Notes are put on the step grid by :mod:`segue.music.quantize` (zero-length notes
  dropped, out-of-range pitches dropped, overlaps of one pitch cut).
* Tempo changes are kept as a tempo map; they do not move the grid, which counts beats.
* A piece is split where its time signature changes (``meter_split``); each part is
  its own :class:`Piece`, named ``NAME`` then ``NAME#2``, ``NAME#3`` ... A first
  segment of a single bar shorter than the following bar (a pickup written as its
  own short meter, as notation programs do) is the pickup of the next segment instead.
* Leading empty bars are removed. A first bar that is whole by the file's meter is a
  complete bar, even when it begins with a rest: only a bar that the file itself makes
  shorter (the short meter above) is a pickup. A pickup is written back the same way.
* A note that runs past its segment's end is cut there; tracks without notes are dropped.
* Segments without a complete bar are skipped (``segment_without_complete_bar``); a
  file left with no piece is an error naming the reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import symusic

from segue.errors import MidiError
from segue.files import atomic_write_bytes
from segue.music.piece import (
    NOTE_DTYPE,
    KeySignature,
    Meter,
    Part,
    Piece,
    empty_notes,
    sort_notes,
)
from segue.music.quantize import drop_out_of_range, quantize, resolve_overlaps, ticks_to_steps

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Files larger than this are refused before parsing."""

MAX_STEPS = 2**20
"""The longest piece read, in grid steps (65,536 bars of 4/4 at sixteenths, over a day of music):
grids and piano rolls are sized from a file's note times, so a file past it is refused."""

DEFAULT_TEMPO = 500_000  # microseconds per quarter note: 120 bpm, the MIDI default


@dataclass(frozen=True)
class MidiFile:
    """A MIDI file's bytes and its parsed score, parsed once for every reader."""

    data: bytes
    score: symusic.Score
    label: str


@dataclass(frozen=True)
class FilePlace:
    """Where a piece read from a file lies in it: the file's ticks per beat, the file step of
    the piece's bar 0, and the file track of each of the piece's parts."""

    ticks_per_beat: int
    origin_step: int
    source_tracks: tuple[int, ...]

    def tick_of(self, step: int, steps_per_beat: int) -> int:
        """The file tick of the piece's ``step``."""
        return round((self.origin_step + step) * self.ticks_per_beat / steps_per_beat)

    def step_of(self, tick: int, steps_per_beat: int) -> int:
        """The piece's step at the file tick ``tick`` (rounded to the grid)."""
        return round(tick * steps_per_beat / self.ticks_per_beat) - self.origin_step


@dataclass
class ReadResult:
    """The pieces read from one file, where each lies in it, and counts of what the reading
    rules changed."""

    pieces: list[Piece]
    counts: Counter[str] = field(default_factory=Counter)
    places: list[FilePlace] = field(default_factory=list)


def parse_midi(source: str | Path | bytes, label: str) -> MidiFile:
    """Read and parse a MIDI file once (see :func:`load_midi_bytes` for what is refused)."""
    data = load_midi_bytes(source, label)
    return MidiFile(data, _parse(data, label), label)


@dataclass(frozen=True)
class _Segment:
    start: int  # first step of the segment (in file steps)
    end: int | None  # first step after it, None for the last
    meter: Meter
    origin: int  # file step of the segment's bar 0
    pickup: int


def read_midi(
    source: str | Path | bytes | MidiFile,
    *,
    name: str | None = None,
    steps_per_beat: int = 4,
    lowest: int = 0,
    highest: int = 127,
    keep_drums: bool = False,
) -> ReadResult:
    """Read a MIDI file (a path or its bytes) into pieces on a bar grid.

    Raises
    ------
    MidiError
        If the file is not MIDI, is corrupt, or holds no complete bar of notes.
    """
    if isinstance(source, MidiFile):
        label, score = name or source.label, source.score
    else:
        label = name or (str(source) if not isinstance(source, bytes) else "<bytes>")
        score = parse_midi(source, label).score
    counts: Counter[str] = Counter()
    notes, parts, sources = _collect_notes(score, steps_per_beat, lowest, highest, keep_drums, counts, label)
    if not len(notes):
        raise MidiError(label, _why_no_notes(counts))
    tempos = _events_to_steps(score.tempos, score.tpq, steps_per_beat, lambda e: int(e.mspq))
    counts["zero_tempo"] += sum(mspq <= 0 for _, mspq in tempos)  # type: ignore[operator]
    tempos = [(step, mspq) for step, mspq in tempos if mspq > 0]  # type: ignore[operator]
    keys = _events_to_steps(
        score.key_signatures,
        score.tpq,
        steps_per_beat,
        lambda e: KeySignature(int(e.key), bool(e.tonality)),
    )
    pieces, places = [], []
    segments = _segments(score, steps_per_beat, label, counts)
    for index, segment in enumerate(segments):
        piece_name = Path(label).stem if index == 0 else f"{Path(label).stem}#{index + 1}"
        cut = _cut_segment(notes, parts, segment, steps_per_beat, tempos, keys, counts)
        if cut is None or cut[0].complete_bars == 0:
            counts["segment_without_complete_bar"] += 1
            continue
        piece, origin, used = cut
        pieces.append(replace(piece, name=piece_name))
        places.append(FilePlace(score.tpq, origin, tuple(sources[i] for i in used)))
    if not pieces:
        raise MidiError(label, "no complete bar of notes")
    return ReadResult(pieces, +counts, places)


def load_midi_bytes(source: str | Path | bytes, label: str) -> bytes:
    """The bytes of a MIDI file, refused with a one-line error if absent, too large, empty or not MIDI."""
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise MidiError(label, f"file of {size / 2**20:.0f} MB is larger than the 64 MB limit")
            data = path.read_bytes()
        except IsADirectoryError:
            raise MidiError(label, "is a directory, not a MIDI file") from None
        except FileNotFoundError:
            raise MidiError(label, "no such file") from None
        except PermissionError:
            raise MidiError(label, "permission denied") from None
    if not data:
        raise MidiError(label, "empty file")
    if len(data) > MAX_FILE_BYTES:
        raise MidiError(label, "larger than the 64 MB limit")
    if not data.startswith(b"MThd"):
        raise MidiError(label, "not a MIDI file (no MThd header)")
    return data


def _parse(data: bytes, label: str) -> symusic.Score:
    try:
        score = symusic.Score.from_midi(data)
    except Exception as error:  # symusic raises RuntimeError with a MiniMidi message
        detail = str(error).replace("MiniMidi: ", "").split(":")[0].split("(")[0].strip().rstrip("!.")
        raise MidiError(label, f"corrupt MIDI file ({detail})") from None
    if score.tpq <= 0:
        raise MidiError(label, f"invalid tick resolution {score.tpq}")
    return score


def _why_no_notes(counts: Counter[str]) -> str:
    if counts["drum_notes"]:
        return "only drum notes (drums are dropped)"
    if counts["out_of_range"]:
        return "no notes inside the pitch range"
    return "no notes"


def _collect_notes(
    score: symusic.Score,
    steps_per_beat: int,
    lowest: int,
    highest: int,
    keep_drums: bool,
    counts: Counter[str],
    label: str,
) -> tuple[np.ndarray, list[Part], list[int]]:
    chunks: list[np.ndarray] = []
    parts: list[Part] = []
    sources: list[int] = []
    for source, track in enumerate(score.tracks):
        columns = track.notes.numpy()
        if not len(columns["time"]):
            continue
        if track.is_drum and not keep_drums:
            counts["drum_notes"] += len(columns["time"])
            continue
        keep, onset, duration = quantize(
            columns["time"], columns["duration"], score.tpq, steps_per_beat, counts
        )
        end = int((onset + duration).max()) if len(onset) else 0
        if end > MAX_STEPS:  # before any grid is sized from these times
            beats, limit = end // steps_per_beat, MAX_STEPS // steps_per_beat
            raise MidiError(label, f"lasts {beats:,} beats, more than the {limit:,}-beat limit")
        chunk = empty_notes(len(onset))
        chunk["onset"], chunk["duration"] = onset, duration
        chunk["pitch"] = columns["pitch"][keep].astype(np.int16) & 0x7F
        chunk["velocity"] = np.clip(columns["velocity"][keep].astype(np.int16), 1, 127)
        chunk["track"] = len(parts)
        chunks.append(drop_out_of_range(chunk, lowest, highest, counts))
        parts.append(Part(str(track.name), int(track.program), bool(track.is_drum)))
        sources.append(source)
    notes = np.concatenate(chunks) if chunks else empty_notes()
    return resolve_overlaps(notes, counts), parts, sources


def _events_to_steps(events, tpq: int, steps_per_beat: int, value) -> list[tuple[int, object]]:  # type: ignore[no-untyped-def]
    times = ticks_to_steps(np.array([e.time for e in events], dtype=np.int64), tpq, steps_per_beat)
    return [(int(t), value(e)) for t, e in zip(times, events)]


def _segments(score: symusic.Score, steps_per_beat: int, label: str, counts: Counter[str]) -> list[_Segment]:
    changes: dict[int, Meter] = {0: Meter(4, 4)}
    for event in score.time_signatures:
        step = int(ticks_to_steps(np.array([event.time]), score.tpq, steps_per_beat)[0])
        try:
            changes[step] = Meter(int(event.numerator), int(event.denominator))
        except ValueError:
            raise MidiError(label, f"invalid time signature {event.numerator}/{event.denominator}") from None
    starts: list[int] = []
    meters: list[Meter] = []
    for step in sorted(changes):
        if meters and changes[step] == meters[-1]:
            continue
        starts.append(step)
        meters.append(changes[step])
    counts["meter_split"] += len(starts) - 1
    bars = []
    for meter in meters:
        try:
            bars.append(meter.bar_steps(steps_per_beat))
        except ValueError as error:
            raise MidiError(label, str(error)) from None
    segments = []
    for i, (start, meter) in enumerate(zip(starts, meters)):
        end = starts[i + 1] if i + 1 < len(starts) else None
        segments.append(_Segment(start, end, meter, start, 0))
    first = segments[0]
    if len(segments) > 1 and first.end is not None:
        length = first.end - first.start
        if length == bars[0] and length < bars[1]:  # a one-bar short meter: a pickup
            second = segments[1]
            segments[:2] = [_Segment(first.start, second.end, second.meter, first.end - bars[1], length)]
            counts["meter_split"] -= 1
    return segments


def _cut_segment(
    notes: np.ndarray,
    parts: list[Part],
    segment: _Segment,
    steps_per_beat: int,
    tempos: list[tuple[int, object]],
    keys: list[tuple[int, object]],
    counts: Counter[str],
) -> tuple[Piece, int, list[int]] | None:
    """The segment as a piece, the file step of its bar 0 and the parts it uses; None if empty."""
    inside = notes["onset"] >= segment.start
    if segment.end is not None:
        inside &= notes["onset"] < segment.end
    chunk = notes[inside].copy()
    if not len(chunk):
        return None
    if segment.end is not None:
        room = segment.end - chunk["onset"]
        counts["cut_at_meter_change"] += int((chunk["duration"] > room).sum())
        chunk["duration"] = np.minimum(chunk["duration"], room)
    bar = segment.meter.bar_steps(steps_per_beat)
    origin, pickup = segment.origin, segment.pickup
    first_onset = int(chunk["onset"].min()) - origin
    if first_onset >= bar:  # leading empty bars
        skip = first_onset // bar
        counts["leading_empty_bars"] += skip
        origin += skip * bar
        first_onset -= skip * bar
        pickup = 0
    chunk["onset"] -= origin
    used = np.unique(chunk["track"])
    remap = np.zeros(len(parts), dtype=np.int64)
    remap[used] = np.arange(len(used))
    chunk["track"] = remap[chunk["track"]]
    start = max(segment.start, origin)
    piece_tempos: Any = tuple(_map_in_segment(tempos, origin, start, segment.end, DEFAULT_TEMPO))
    piece_keys: Any = tuple(_map_in_segment(keys, origin, start, segment.end, None))
    piece = Piece(
        notes=sort_notes(chunk),
        parts=tuple(parts[i] for i in used),
        meter=segment.meter,
        steps_per_beat=steps_per_beat,
        pickup=pickup,
        tempos=piece_tempos,
        keys=piece_keys,
    )
    return piece, origin, used.tolist()


def _map_in_segment(
    events: list[tuple[int, object]], origin: int, start: int, end: int | None, default: object
) -> list[tuple[int, object]]:
    """Events inside (start, end) re-based to ``origin``, led at step 0 by the one in force at
    ``start`` (the later of the segment's start and its bar 0, after leading empty bars)."""
    current = default
    mapped: list[tuple[int, object]] = []
    for step, value in events:
        if step <= start:
            current = value
        elif end is None or step < end:
            mapped.append((step - origin, value))
    lead = [(0, current)] if current is not None else []
    return lead + mapped


def midi_bytes(piece: Piece, ticks_per_beat: int = 480) -> bytes:
    """Encode a piece as a type 1 MIDI file (one MIDI track per part)."""
    if ticks_per_beat % piece.steps_per_beat:
        raise ValueError("ticks_per_beat must be a multiple of the piece's steps_per_beat")
    scale = ticks_per_beat // piece.steps_per_beat
    score = symusic.Score(ticks_per_beat)
    # A pickup bar is written as one bar of its own short meter, so the file starts where it does.
    short = _pickup_meter(piece.pickup, piece.meter, piece.steps_per_beat) if piece.pickup else None
    shift = piece.bar_steps - piece.pickup if short else 0
    if short:
        if len(piece.notes) and int(piece.notes["onset"].min()) < shift:
            raise ValueError(f"a note starts before the {piece.pickup}-step pickup")
        score.time_signatures.append(symusic.TimeSignature(0, short.numerator, short.denominator))
    bar_one = piece.pickup * scale if short else 0  # the tick where the piece's own meter starts
    score.time_signatures.append(
        symusic.TimeSignature(bar_one, piece.meter.numerator, piece.meter.denominator)
    )
    for step, mspq in piece.tempos or ((0, DEFAULT_TEMPO),):
        score.tempos.append(symusic.Tempo(max(0, step - shift) * scale, 60_000_000 / mspq))
    for step, key in piece.keys:
        score.key_signatures.append(
            symusic.KeySignature(max(0, step - shift) * scale, key.fifths, int(key.minor))
        )
    for index, part in enumerate(piece.parts):
        track = symusic.Track(name=part.name, program=part.program, is_drum=part.is_drum)
        chunk = piece.track_notes(index)
        track.notes = symusic.Note.from_numpy(
            time=((chunk["onset"].astype(np.int64) - shift) * scale).astype(np.int32),
            duration=(chunk["duration"].astype(np.int64) * scale).astype(np.int32),
            pitch=chunk["pitch"].astype(np.int8),
            velocity=chunk["velocity"].astype(np.int8),
        )
        score.tracks.append(track)
    return bytes(score.dumps_midi())


def _pickup_meter(pickup: int, meter: Meter, steps_per_beat: int) -> Meter | None:
    """The short meter of a ``pickup``-step bar: in the piece's note value where it fits (an
    eighth's upbeat in 6/8 is 1/8), else in the largest note value that does (15 sixteenths);
    None where no time signature can say it (a third of a beat: the bar is then written whole)."""
    whole = 4 * steps_per_beat  # steps in a whole note
    if pickup * meter.denominator % whole == 0:
        return Meter(pickup * meter.denominator // whole, meter.denominator)
    share = Fraction(pickup, whole)
    if share.denominator & (share.denominator - 1):
        return None
    return Meter(share.numerator, share.denominator)


def write_midi(piece: Piece, path: str | Path, ticks_per_beat: int = 480) -> Path:
    """Write a piece to ``path`` as MIDI, atomically."""
    return atomic_write_bytes(path, midi_bytes(piece, ticks_per_beat))


__all__ = [
    "MAX_FILE_BYTES",
    "MAX_STEPS",
    "NOTE_DTYPE",
    "FilePlace",
    "MidiFile",
    "ReadResult",
    "midi_bytes",
    "parse_midi",
    "read_midi",
    "write_midi",
]
