"""Build segue's folk melody dataset from the ABC tunes of music21's corpus, once.

Run from the repository root (music21 is the `build` extra; about 10 minutes on 2 cores)::

    .venv/bin/python scripts/build_folk.py [--workers 2] [--limit N]

It writes ``src/segue/assets/folk/dataset/``: one melody per tune (track "Melody"), each piece
carrying its split in its metadata (``"split"``), which ``segue train --data`` and
``segue evaluate --data`` follow.

Rules, each counted in the printed summary:

* Files: the ABC files of music21's corpus in ``essenFolksong`` (the Essen collection: German,
  Chinese, other European songs), ``oneills1850`` (O'Neill's Music of Ireland) and
  ``airdsAirs`` (Aird's Airs); each file holds many tunes. A tune is named
  ``COLLECTION-FILE-NUMBER`` (its number in the file, or its position).
* Notes: ties stripped, grace notes skipped, a chord (rare: double stops) kept as its top
  note; times onto the 4-steps-per-beat grid by the rules of MIDI input. The bar grid, meter
  changes and bar-phase breaks are those of ``scripts/build_chorales.py`` (a tune is split
  into ``NAME#2`` ... where its meter changes); a part without a complete bar is left out.
* Key: the first key signature (sharps and its mode when the ABC names it; else major).
* Tunes with exactly the notes of an earlier tune are dropped.
* Splits by tune family: a family is the tunes whose first 16 melodic intervals (repeated notes
  merged, so any key and rhythm variants look alike) are the same; a family's split comes from
  a hash of those intervals: test 10 %, valid 5 %, train the rest. No family is in two splits.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from music21 import corpus, key, stream
from tqdm import tqdm

from segue.data.dataset import DatasetWriter, piece_to_meta
from segue.music.piece import KeySignature, Part, Piece, empty_notes
from segue.music.quantize import quantize, resolve_overlaps

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_chorales import STEPS_PER_BEAT, TICKS_PER_BEAT, Segment, Skip, segments, steps, ticks

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "segue" / "assets" / "folk"
COLLECTIONS = ("essenFolksong", "oneills1850", "airdsAirs")
SHORT = {"essenFolksong": "essen", "oneills1850": "oneill", "airdsAirs": "aird"}
PROGRAM = 73  # General MIDI "Flute"
VELOCITY = 90
TEMPO = 500_000  # 120 bpm
FAMILY_INTERVALS = 16
TEST, VALID = 0.10, 0.05


def corpus_files() -> list[Path]:
    """The ABC files of the collections, sorted."""
    paths = [Path(p) for p in corpus.getPaths(fileExtensions=("abc",))]
    return sorted(p for p in paths if p.parent.name in COLLECTIONS)


def melody_table(part: stream.Part, counts: Counter[str]) -> np.ndarray:
    """The melody as (start tick, duration ticks, pitch, track 0) rows; a chord gives its top note."""
    rows = []
    for item in part.flatten().notes:
        if item.duration.isGrace:
            counts["grace_note"] += 1
            continue
        pitches = [p.midi for p in item.pitches]
        if len(pitches) > 1:
            counts["chord_top_note_kept"] += 1
        rows.append((ticks(item.offset), ticks(item.quarterLength), max(pitches), 0))
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def tune_key(part: stream.Part) -> KeySignature:
    """The first key signature, with its mode when the ABC gives one."""
    signature = part.recurse().getElementsByClass(key.KeySignature).first()
    if signature is None:
        return KeySignature(0, False)
    minor = isinstance(signature, key.Key) and signature.mode in ("minor", "aeolian", "dorian", "phrygian")
    return KeySignature(max(-7, min(7, int(signature.sharps))), minor)


def segment_piece(
    table: np.ndarray, segment: Segment, tune_key: KeySignature, counts: Counter[str]
) -> Piece | None:
    """The melody's notes in one segment, on its own bar grid (None if it has none)."""
    end = segment.end if segment.end is not None else np.iinfo(np.int64).max
    rows = table[(table[:, 0] >= segment.start) & (table[:, 0] < end)]
    keep, onset, duration = quantize(
        rows[:, 0] - segment.origin, rows[:, 1], TICKS_PER_BEAT, STEPS_PER_BEAT, counts
    )
    notes = empty_notes(len(onset))
    notes["onset"], notes["duration"], notes["velocity"] = onset, duration, VELOCITY
    notes["pitch"], notes["track"] = rows[keep, 2], 0
    if segment.end is not None:
        room = int(steps(segment.end - segment.origin)[0]) - notes["onset"]
        notes["duration"] = np.minimum(notes["duration"], room)
    notes = resolve_overlaps(notes, counts)
    if not len(notes):
        return None
    bar = segment.meter.bar_steps(STEPS_PER_BEAT)
    empty_bars = int(notes["onset"].min()) // bar
    notes["onset"] -= empty_bars * bar
    return Piece(
        notes=notes,
        parts=(Part("Melody", PROGRAM, False),),
        meter=segment.meter,
        steps_per_beat=STEPS_PER_BEAT,
        pickup=-int(notes["onset"].min()) % bar,
        tempos=((0, TEMPO),),
        keys=((0, tune_key),),
    )


def convert_tune(score: stream.Score, name: str, counts: Counter[str]) -> list[Piece]:
    """One tune's pieces (usually one; more where its meter changes)."""
    if not score.parts:
        raise Skip("no part")
    part = score.parts[0].stripTies()
    table = melody_table(part, counts)
    if not len(table):
        raise Skip("no notes")
    pieces: list[Piece] = []
    for segment in segments(part, int(table[:, 0].max()), counts):
        piece = segment_piece(table, segment, tune_key(part), counts)
        if piece is None or piece.complete_bars == 0:
            counts["segment_without_complete_bar"] += 1
            continue
        suffix = f"#{len(pieces) + 1}" if pieces else ""
        pieces.append(replace(piece, name=name + suffix))
    if not pieces:
        raise Skip("no complete bar")
    return pieces


def convert_file(path: Path) -> tuple[list[tuple[str, list[Piece]]], Counter[str], Counter[str]]:
    """Every tune of one ABC file: (name, pieces) pairs, skip reasons, rule counts."""
    counts: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    parsed = corpus.parse(str(path))
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    tunes = []
    for position, score in enumerate(scores, start=1):
        number = getattr(score.metadata, "number", None) if score.metadata else None
        name = f"{SHORT[path.parent.name]}-{path.stem}-{number or position}"
        try:
            tunes.append((name, convert_tune(score, name, counts)))
        except Skip as reason:
            skipped[str(reason)] += 1
        except Exception as error:  # a tune music21 cannot lay out: left out, counted
            skipped[f"music21 failed: {type(error).__name__}"] += 1
    return tunes, skipped, counts


def family(pieces: list[Piece]) -> tuple[int, ...]:
    """The first melodic intervals, repeated notes merged."""
    pitches = np.concatenate([p.notes["pitch"] for p in pieces]).astype(np.int64)
    moves = np.diff(pitches)
    return tuple(moves[moves != 0][:FAMILY_INTERVALS].tolist())


def split_of_family(intervals: tuple[int, ...]) -> str:
    """test, valid or train, from a hash of the family's intervals."""
    digest = hashlib.sha1(",".join(map(str, intervals)).encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if position < TEST else "valid" if position < TEST + VALID else "train"


def main() -> int:
    """Build, dedupe, split, write and summarize."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="only the first N files (a quick look)")
    args = parser.parse_args()
    began = time.perf_counter()
    paths = corpus_files()[: args.limit]
    counts: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    seen: set[bytes] = set()
    kept: list[tuple[str, list[Piece]]] = []
    with ProcessPoolExecutor(args.workers) as pool:
        for tunes, skips, rules in tqdm(pool.map(convert_file, paths), total=len(paths), unit="file"):
            skipped.update(skips)
            counts.update(rules)
            for name, pieces in tunes:
                fingerprint = b"|".join(p.notes.tobytes() + str(p.meter).encode() for p in pieces)
                if fingerprint in seen:
                    skipped["duplicate of an earlier tune"] += 1
                    continue
                seen.add(fingerprint)
                kept.append((name, pieces))
    splits: Counter[str] = Counter()
    meters: Counter[str] = Counter()
    with DatasetWriter(OUT / "dataset", overwrite=True) as writer:
        for name, pieces in kept:
            split = split_of_family(family(pieces))
            splits[split] += 1
            for piece in pieces:
                meters[str(piece.meter)] += 1
                writer.add(piece.notes, {**piece_to_meta(piece, source=name), "split": split})
        summary = {
            "files": len(paths),
            "tunes": len(kept),
            "pieces_by_meter": dict(meters.most_common()),
            "tunes_by_split": dict(splits),
            "skipped": dict(skipped.most_common()),
            "rules": dict(sorted(counts.items())),
        }
        path = writer.close(
            source="music21 corpus: " + ", ".join(COLLECTIONS), steps_per_beat=STEPS_PER_BEAT, **summary
        )
    for field, value in summary.items():
        print(f"{field}: {value}")
    size = sum(f.stat().st_size for f in path.iterdir())
    print(f"dataset: {size / 1e6:.2f} MB in {path}; took {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
