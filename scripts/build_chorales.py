"""Build segue's bundled Bach chorale dataset from music21's corpus, once.

Run from the repository root::

    .venv/bin/python scripts/build_chorales.py

It writes ``src/segue/assets/chorales/dataset/`` (a segue dataset) and
``src/segue/assets/chorales/splits.json``. music21 is needed only for this build (it
is an optional extra: ``pip install music21``); segue itself reads the result
without it.

Rules, each counted in the printed summary:

* Files: every ``.mxl``/``.xml`` file of ``music21.corpus.getComposer('bach')`` whose
  parts include Soprano, Alto, Tenor and Bass (names matched case-insensitively, each
  exactly once); other parts (instruments) are left out. The name is the file stem,
  e.g. ``bwv1.6``.
* Notes: ties are stripped so a tied note is one note; repeats are not expanded (the
  score as written); grace notes are skipped. Times go to ticks at ``TICKS_PER_BEAT``
  per quarter and onto the step grid by :mod:`segue.music.quantize`, the same rules
  as MIDI input (rounding, zero-length notes dropped, overlaps of one pitch cut).
* Bar grid: bar 0 starts where the score's first bar line would be, so a pickup
  measure's music lies at the end of bar 0. A piece is split (``NAME#2`` ...) where
  the time signature changes (as :mod:`segue.music.midi` does) and also where a
  full-length measure no longer starts on the grid because an irregular bar came
  before it (``bar_phase_split``), so every full measure starts on a bar line. Each
  piece then follows the data model: leading empty bars are removed, and if its
  music starts after the bar line, bar 0 is a pickup bar. A note running past its
  piece's end is cut there; a piece without a complete bar is skipped.
* Tracks Soprano, Alto, Tenor, Bass (Choir Aahs, velocity 80), 80 bpm; the key's
  fifths come from the first key signature, its mode from music21's key analysis;
  fermatas are the onsets of soprano notes that carry (or are tied into) a fermata.
* Files with exactly the notes of an earlier file (in name order) are dropped.
* Splits keep each tune in one split. A melody is its soprano's interval sequence
  with repeated notes merged (so any key, and rhythm variants, look alike); two
  chorales share a tune when their melodies match at least ``TUNE_SIMILARITY``
  (difflib's ratio), and tunes are the connected groups of that relation. Exact
  matching alone misses most re-harmonised tunes, whose melodies differ by a passing
  note here and there. The groups, sorted, are shuffled with ``random.Random(0)``;
  ``test`` is filled to at least max(30, 12 %) of the chorales, ``valid`` to 10 %.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import json
import math
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from music21 import converter, corpus, expressions, key, stream
from tqdm import tqdm

from segue.data.dataset import DatasetWriter
from segue.music.midi import midi_bytes, read_midi
from segue.music.pianoroll import from_pianoroll, to_pianoroll
from segue.music.piece import KeySignature, Meter, Part, Piece, empty_notes
from segue.music.quantize import quantize, resolve_overlaps, ticks_to_steps

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "segue" / "assets" / "chorales"
VOICES = ("Soprano", "Alto", "Tenor", "Bass")
TICKS_PER_BEAT = 10080  # divisible by 2..10, 12, 14, 16, 32: every tuplet in the corpus is exact
STEPS_PER_BEAT = 4
PROGRAM = 52  # General MIDI "Choir Aahs"
VELOCITY = 80
TEMPO = 750_000  # microseconds per quarter note: 80 bpm
TUNE_SIMILARITY = 0.75  # re-harmonised tunes mostly score above; at 0.7 groups chain up


class Skip(Exception):
    """A file that is left out, with the reason."""


@dataclass(frozen=True)
class Segment:
    """A stretch of the score with one bar grid; times in ticks from the score's start."""

    start: int  # first tick of the segment
    end: int | None  # first tick after it (None: to the end)
    meter: Meter
    origin: int  # tick of the segment's bar 0
    downbeats: tuple[int, ...]  # starts of its full-length measures


@dataclass
class Chorale:
    """One corpus file converted: its pieces and its melody (see :func:`melody`)."""

    name: str
    pieces: list[Piece]
    tune: tuple[int, ...]
    counts: Counter[str] = field(default_factory=Counter)


def ticks(quarters: float | Fraction) -> int:
    """A music21 offset or quarterLength (float or Fraction) in ticks."""
    return round(Fraction(quarters) * TICKS_PER_BEAT)


def steps(tick_times: object) -> np.ndarray:
    """Ticks rounded to steps by the quantizer's rule."""
    tick_array = np.atleast_1d(np.asarray(tick_times, dtype=np.int64))
    return ticks_to_steps(tick_array, TICKS_PER_BEAT, STEPS_PER_BEAT)


def corpus_files() -> list[Path]:
    """The Bach MusicXML files of music21's corpus, sorted by name."""
    paths = [Path(p) for p in corpus.getComposer("bach")]
    return sorted((p for p in paths if p.suffix in (".mxl", ".xml")), key=lambda p: p.stem)


def satb_parts(score: stream.Score) -> list[stream.Part]:
    """The Soprano, Alto, Tenor and Bass parts, in that order."""
    by_name = defaultdict(list)
    for part in score.parts:
        by_name[str(part.partName or "").strip().lower()].append(part)
    missing = [v for v in VOICES if len(by_name[v.lower()]) != 1]
    if missing:
        raise Skip(f"no single part named {'/'.join(missing)}")
    return [by_name[v.lower()][0] for v in VOICES]


def segments(part: stream.Part, last_onset: int, counts: Counter[str]) -> list[Segment]:
    """Cut the score where the bar grid must restart: meter changes and bar-phase breaks.

    Measures after ``last_onset`` (the last note's start) hold no new note: they
    neither start a segment nor are checked.
    """
    starts: list[tuple[int, Meter, int, str]] = []  # (start, meter, origin, why)
    downbeats: list[list[int]] = []
    meter: Meter | None = None
    for measure in part.getElementsByClass(stream.Measure):
        start, length = ticks(measure.offset), ticks(measure.duration.quarterLength)
        signature = measure.timeSignature
        new = Meter(signature.numerator, signature.denominator) if signature else meter
        if new is None:
            raise Skip("no time signature")
        bar = new.numerator * 4 * TICKS_PER_BEAT // new.denominator
        if new != meter:
            origin = start + length - bar if length < bar else start
            starts.append((start, new, origin, "meter_split" if meter else ""))
            downbeats.append([])
        elif length == bar and (start - starts[-1][2]) % bar and start <= last_onset:
            starts.append((start, new, start, "bar_phase_split"))
            downbeats.append([])
        if length == bar and start <= last_onset:
            downbeats[-1].append(start)
        meter = new
    counts.update(why for _, _, _, why in starts if why)
    ends = [s[0] for s in starts[1:]] + [None]
    return [
        Segment(start, end, grid, origin, tuple(beats))
        for (start, grid, origin, _), end, beats in zip(starts, ends, downbeats, strict=True)
    ]


def note_table(parts: list[stream.Part], counts: Counter[str]) -> np.ndarray:
    """Every sounding note of the parts as (start tick, duration ticks, pitch, track) rows."""
    rows: list[tuple[int, int, int, int]] = []
    for track, part in enumerate(parts):
        for item in part.flatten().notes:
            if item.duration.isGrace:
                counts["grace_note"] += len(item.pitches)
                continue
            start, length = ticks(item.offset), ticks(item.quarterLength)
            rows.extend((start, length, p.midi, track) for p in item.pitches)
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def fermata_ticks(soprano: stream.Part, tied: np.ndarray) -> list[int]:
    """Start ticks of the (tie-stripped) soprano notes that hold a fermata.

    Fermatas are read before ties are stripped, since stripping keeps only the first
    tied note's expressions; each is moved to the start of the note that covers it.
    """
    tied = tied[np.argsort(tied[:, 0])]
    starts = tied[:, 0].tolist()
    found = set()
    for item in soprano.flatten().notes:
        if any(isinstance(e, expressions.Fermata) for e in item.expressions):
            at = ticks(item.offset)
            index = bisect.bisect_right(starts, at) - 1
            if index >= 0 and at < starts[index] + tied[index, 1]:
                found.add(starts[index])
    return sorted(found)


def score_key(parts: list[stream.Part], counts: Counter[str]) -> KeySignature:
    """The key as music21's analysis finds it (tonic and mode), as a key signature.

    Older scores often write a minor (Dorian) chorale with one flat too few; the key
    signature of the notation is then not the key, and the key is what segue keeps.
    """
    signature = parts[0].recurse().getElementsByClass(key.KeySignature).first()
    if signature is None:
        raise Skip("no key signature")
    analysed = stream.Score(parts).analyze("key")
    if int(signature.sharps) != int(analysed.sharps):
        counts["key_signature_not_analysed_key"] += 1  # e.g. modal (Dorian) notation
    return KeySignature(int(analysed.sharps), analysed.mode == "minor")


def segment_piece(
    table: np.ndarray,
    segment: Segment,
    fermatas: list[int],
    piece_key: KeySignature,
    counts: Counter[str],
) -> Piece | None:
    """The notes of one segment as a piece on its own bar grid (None if it has none)."""
    end = segment.end if segment.end is not None else np.iinfo(np.int64).max
    rows = table[(table[:, 0] >= segment.start) & (table[:, 0] < end)]
    keep, onset, duration = quantize(
        rows[:, 0] - segment.origin, rows[:, 1], TICKS_PER_BEAT, STEPS_PER_BEAT, counts
    )
    notes = empty_notes(len(onset))
    notes["onset"], notes["duration"], notes["velocity"] = onset, duration, VELOCITY
    notes["pitch"], notes["track"] = rows[keep, 2], rows[keep, 3]
    if segment.end is not None:
        room = int(steps(segment.end - segment.origin)[0]) - notes["onset"]
        counts["cut_at_segment_end"] += int((notes["duration"] > room).sum())
        notes["duration"] = np.minimum(notes["duration"], room)
    notes = resolve_overlaps(notes, counts)
    if not len(notes):
        return None
    bar = segment.meter.bar_steps(STEPS_PER_BEAT)
    empty_bars = int(notes["onset"].min()) // bar
    counts["leading_empty_bars"] += empty_bars
    shift = empty_bars * bar
    notes["onset"] -= shift
    pickup = -int(notes["onset"].min()) % bar
    if not empty_bars and pickup != -int(steps(segment.start - segment.origin)[0]) % bar:
        counts["pickup_set_by_leading_rest"] += 1
    inside = [f for f in fermatas if segment.start <= f < end]
    downbeats = steps(np.array(segment.downbeats) - segment.origin) - shift
    return Piece(
        notes=notes,
        parts=tuple(Part(v, PROGRAM, False) for v in VOICES),
        meter=segment.meter,
        steps_per_beat=STEPS_PER_BEAT,
        pickup=pickup,
        tempos=((0, TEMPO),),
        keys=((0, piece_key),),
        fermatas=tuple(int(s) for s in steps(np.array(inside) - segment.origin) - shift),
        extra={"downbeats": downbeats[downbeats >= 0]},
    )


def convert(path: Path) -> Chorale:
    """Convert one corpus file into its pieces (usually one)."""
    counts: Counter[str] = Counter()
    score = converter.parse(path)
    if not isinstance(score, stream.Score):
        raise Skip("not a score")
    written = satb_parts(score)
    parts = [part.stripTies() for part in written]
    if len({tuple(m.offset for m in p.getElementsByClass(stream.Measure)) for p in parts}) > 1:
        raise Skip("voices disagree on bar lines")
    table = note_table(parts, counts)
    if not len(table):
        raise Skip("no notes")
    fermatas = fermata_ticks(written[0], table[table[:, 3] == 0])
    piece_key = score_key(parts, counts)
    pieces: list[Piece] = []
    for segment in segments(parts[0], int(table[:, 0].max()), counts):
        piece = segment_piece(table, segment, fermatas, piece_key, counts)
        if piece is None or piece.complete_bars == 0:
            counts["segment_without_complete_bar"] += 1
            continue
        suffix = f"#{len(pieces) + 1}" if pieces else ""
        pieces.append(replace(piece, name=path.stem + suffix))
    if not pieces:
        raise Skip("no complete bar")
    return Chorale(path.stem, pieces, melody(pieces), counts)


def melody(pieces: list[Piece]) -> tuple[int, ...]:
    """The soprano's intervals in semitones, repeated notes merged: the same in any key."""
    pitches = np.concatenate([p.track_notes(0)["pitch"] for p in pieces]).astype(np.int64)
    moves = np.diff(pitches)
    return tuple(moves[moves != 0].tolist())


def same_notes(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two note arrays hold the same (onset, duration, pitch, track) rows."""
    fields = ["onset", "duration", "pitch", "track"]
    return len(a) == len(b) and all(np.array_equal(a[f], b[f]) for f in fields)


def check_piece(piece: Piece) -> str | None:
    """Raise on a broken piece; return why its MIDI round trip differs, if it does."""
    if piece.complete_bars < 1 or len(piece.parts) != 4:
        raise AssertionError(f"{piece.name}: {piece.complete_bars} bars, {len(piece.parts)} parts")
    if np.any(piece.extra["downbeats"] % piece.bar_steps):  # type: ignore[operator]
        raise AssertionError(f"{piece.name}: a full measure does not start on a bar line")
    roll = to_pianoroll(piece.notes, len(piece.parts))
    if not same_notes(from_pianoroll(roll), piece.notes):
        raise AssertionError(f"{piece.name}: piano roll round trip changed the notes")
    back = read_midi(midi_bytes(piece), name=piece.name).pieces
    if len(back) != 1:
        return f"read back as {len(back)} pieces"
    other = back[0]
    for what in ("pickup", "meter", "parts", "keys", "tempos"):
        if getattr(other, what) != getattr(piece, what):
            return f"{what} {getattr(piece, what)} read back as {getattr(other, what)}"
    if not same_notes(other.notes, piece.notes):
        return "notes differ"
    return None


def same_tune(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether two melodies are alike enough to be one tune."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return all(
        score() >= TUNE_SIMILARITY for score in (matcher.real_quick_ratio, matcher.quick_ratio, matcher.ratio)
    )


def tune_groups(chorales: list[Chorale]) -> list[list[str]]:
    """Chorale names grouped by tune: connected components of :func:`same_tune`."""
    root = list(range(len(chorales)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i, j in itertools.combinations(range(len(chorales)), 2):
        if find(i) != find(j) and same_tune(chorales[i].tune, chorales[j].tune):
            root[find(i)] = find(j)
    groups: dict[int, list[str]] = defaultdict(list)
    for i, chorale in enumerate(chorales):
        groups[find(i)].append(chorale.name)
    return sorted(sorted(names) for names in groups.values())


def split_names(chorales: list[Chorale], seed: int = 0) -> dict[str, list[str]]:
    """Assign whole tunes to test, valid and train (see the module docstring)."""
    groups = tune_groups(chorales)
    random.Random(seed).shuffle(groups)
    n = len(chorales)
    wanted = {"test": max(30, math.ceil(0.12 * n)), "valid": math.ceil(0.10 * n)}
    splits: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    for names in groups:
        target = next((s for s in ("test", "valid") if len(splits[s]) < wanted[s]), "train")
        splits[target].extend(names)
    print(f"tunes: {len(groups)} groups, {sum(len(g) > 1 for g in groups)} with several chorales")
    return {name: sorted(members) for name, members in splits.items()}


def convert_all(paths: list[Path]) -> tuple[list[Chorale], Counter[str], Counter[str]]:
    """Convert every file; returns the kept chorales, skip reasons and rule counts."""
    kept: list[Chorale] = []
    skipped: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    seen: dict[bytes, str] = {}
    for path in tqdm(paths, desc="chorales", unit="file"):
        try:
            chorale = convert(path)
        except Skip as reason:
            skipped[str(reason)] += 1
            continue
        fingerprint = b"|".join(p.notes.tobytes() for p in chorale.pieces)
        if fingerprint in seen:
            tqdm.write(f"duplicate: {chorale.name} has the notes of {seen[fingerprint]}, dropped")
            skipped["duplicate of an earlier file"] += 1
            continue
        seen[fingerprint] = chorale.name
        counts.update(chorale.counts)
        kept.append(chorale)
    return kept, skipped, counts


def check_all(chorales: list[Chorale]) -> dict[str, str]:
    """Run every piece's checks; returns the pieces whose MIDI round trip differs, and why."""
    failures = {}
    for chorale in chorales:
        for piece in chorale.pieces:
            why = check_piece(piece)
            if why:
                failures[piece.name] = why
    return failures


def write(chorales: list[Chorale], splits: dict[str, list[str]], info: dict[str, object]) -> int:
    """Write the dataset and splits.json; returns the dataset's size in bytes."""
    with DatasetWriter(OUT / "dataset", overwrite=True) as writer:
        for chorale in chorales:
            for piece in chorale.pieces:
                writer.add_piece(piece, source=chorale.name)
        path = writer.close(source="music21 corpus: Bach chorales", steps_per_beat=STEPS_PER_BEAT, **info)
    (OUT / "splits.json").write_text(json.dumps(splits, indent=2) + "\n")
    return sum(f.stat().st_size for f in path.iterdir())


def summarize(chorales: list[Chorale], counts: Counter[str]) -> dict[str, object]:
    """Print what the build kept and how the rules changed it; returns it for dataset.json."""
    pieces = [p for c in chorales for p in c.pieces]
    meters = Counter(str(p.meter) for p in pieces)
    summary = {
        "chorales": len(chorales),
        "pieces_by_meter": dict(meters.most_common()),
        "pickups": sum(p.pickup > 0 for p in pieces),
        "complete_bars": sum(p.complete_bars for p in pieces),
        "notes": sum(len(p.notes) for p in pieces),
        "fermatas": sum(len(p.fermatas) for p in pieces),
        "rules": dict(sorted(counts.items())),
    }
    for name, value in summary.items():
        print(f"{name}: {value}")
    return summary


def main() -> int:
    """Build the dataset and splits, check them, print a summary."""
    began = time.perf_counter()
    paths = corpus_files()
    chorales, skipped, counts = convert_all(paths)
    print(f"files seen: {len(paths)}, kept: {len(chorales)}")
    for reason, number in skipped.most_common():
        print(f"skipped {number}: {reason}")
    failures = check_all(chorales)
    for name, why in failures.items():
        print(f"MIDI round trip differs for {name}: {why}")
    splits = split_names(chorales)
    print("splits: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
    info = summarize(chorales, counts)
    info.update(files=len(paths), skipped=dict(skipped), midi_round_trip_differs=failures)
    size = write(chorales, splits, info)
    print(f"dataset: {size / 1e6:.2f} MB in {OUT / 'dataset'}")
    print(f"took {time.perf_counter() - began:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
