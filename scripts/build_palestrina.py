"""Build segue's Renaissance-polyphony dataset from the Palestrina masses of music21's corpus, once.

Run from the repository root (music21 is the `build` extra; 8-13 minutes on 2 cores)::

    .venv/bin/python scripts/build_palestrina.py [--workers 2] [--limit N] [--steps-per-beat 2]

It writes ``src/segue/assets/palestrina/dataset/``: one piece per mass section, one track per
voice, each piece carrying its split (``"split"``) and its mass (``"work"``) in its metadata;
``segue train --data`` and ``segue evaluate --data`` follow the split.

Rules, each counted in the printed summary:

* Files: the Humdrum (``.krn``) files of ``music21.corpus.getComposer('palestrina')``: 1,318
  movements and sections of 101 masses, 3 to 8 voices. A piece is named by its file stem
  (``Agnus_II_03_a``); the file names do not say which mass a file belongs to.
* Voices: one track per part of the score, top voice first, named as music21 names the
  Humdrum instrument (``Soprano``, ``Alto``, ``Tenor`` ...; a name that occurs more than once
  is numbered: ``Tenor 1``, ``Tenor 2``), Choir Aahs; a part without notes is left out.
* Notes: ties stripped, grace notes skipped, a chord in one voice kept as its top note (the
  table of ``scripts/build_folk.py``); times onto a grid of ``--steps-per-beat`` steps per
  quarter note (2: the music is written in breves, semibreves and minims, and an eighth note is
  its shortest plain value) by the rules of MIDI input, so the few minim triplets (coloration:
  three minims to a semibreve, in three files) are rounded to the nearest eighth. The bar
  grid, meter changes and bar-phase breaks are those of ``scripts/build_chorales.py`` (a piece
  is split into ``NAME#2`` ... where its meter changes); the meter is as written (4/2, 3/2,
  2/2). 120 quarter notes a minute (a minim beat of 60).
* Key: the first key signature's sharps or flats; minor when the Humdrum key designation
  (``*G:dor``) names a minor-third mode (dorian, phrygian, aeolian), else major. A segue key
  has no mode, so the final is not kept (G mixolydian, no flats, is stored as C major).
* Sections with exactly the notes of an earlier file (in name order) are dropped (the corpus
  holds Missa Veni Sancte Spiritus twice).
* Splits by mass: the mass is the file's parent-work title (Humdrum ``!!!OPR``, e.g. ``Missa
  Papae Marcelli``); masses whose titles differ only in a trailing parenthesis (``Missa Ave
  Maria (1594)`` and ``(1596)``, ``In duplicibus minoribus (I)`` and ``(II)``) are written on
  the same model and are one family. A family's split is :func:`segue.data.splits.split_of`
  its title (a hash: test 10 %, valid 10 %, train the rest), so no mass, and no model, is in
  two splits. (Valid was 5 % until 2026-12-03: 3 masses, too few to choose a model on; the test
  masses are the same at either share.)
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
from music21 import converter, corpus, key, stream
from tqdm import tqdm

from segue.data.dataset import DatasetWriter, piece_to_meta
from segue.data.splits import split_of, work_family
from segue.music.piece import KeySignature, Part, Piece, empty_notes
from segue.music.quantize import quantize, resolve_overlaps, ticks_to_steps

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_chorales import TICKS_PER_BEAT, Segment, Skip, segments
from build_folk import melody_table

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "segue" / "assets" / "palestrina"
PROGRAM = 52  # General MIDI "Choir Aahs"
VELOCITY = 80
TEMPO = 500_000  # microseconds per quarter note: 120 bpm, a minim beat of 60
MINOR_MODES = ("dor", "phr", "aeo")
KEY_DESIGNATION = re.compile(r"^\*[A-Ga-g][#-]*:([a-z]+)", re.MULTILINE)
VALID_SHARE = 0.10  # of the masses, by the hash of their title; test is the default 10 %


@dataclass
class Section:
    """One corpus file converted: its pieces, its mass, or why it was left out."""

    name: str
    work: str = ""
    pieces: list[Piece] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    skipped: str = ""


def corpus_files() -> list[Path]:
    """The Palestrina Humdrum files of music21's corpus, sorted by name."""
    return sorted(Path(p) for p in corpus.getComposer("palestrina") if Path(p).suffix == ".krn")


def mass_split(work: str) -> str:
    """The split of a mass and of every section of it: :func:`split_of` its family's title."""
    return split_of(work_family(work), valid=VALID_SHARE)


def voice_names(parts: list[stream.Part]) -> list[str]:
    """The parts' names, a name that occurs more than once numbered in score order."""
    names = [str(part.partName or "Voice").strip() for part in parts]
    seen: Counter[str] = Counter()
    numbered = []
    for name in names:
        seen[name] += 1
        numbered.append(f"{name} {seen[name]}" if names.count(name) > 1 else name)
    return numbered


def section_key(part: stream.Part, path: Path) -> KeySignature:
    """The first key signature, minor when the file's key designation names a minor-third mode."""
    signature = part.recurse().getElementsByClass(key.KeySignature).first()
    if signature is None:
        raise Skip("no key signature")
    mode = KEY_DESIGNATION.search(path.read_text(encoding="utf-8", errors="replace"))
    return KeySignature(int(signature.sharps), mode is not None and mode.group(1) in MINOR_MODES)


def segment_piece(
    table: np.ndarray,
    segment: Segment,
    parts: tuple[Part, ...],
    piece_key: KeySignature,
    steps_per_beat: int,
    counts: Counter[str],
) -> Piece | None:
    """The voices' notes in one segment, on its own bar grid (None if it has none)."""
    end = segment.end if segment.end is not None else np.iinfo(np.int64).max
    rows = table[(table[:, 0] >= segment.start) & (table[:, 0] < end)]
    keep, onset, duration = quantize(
        rows[:, 0] - segment.origin, rows[:, 1], TICKS_PER_BEAT, steps_per_beat, counts
    )
    notes = empty_notes(len(onset))
    notes["onset"], notes["duration"], notes["velocity"] = onset, duration, VELOCITY
    notes["pitch"], notes["track"] = rows[keep, 2], rows[keep, 3]
    if segment.end is not None:
        length = np.array([segment.end - segment.origin])
        room = int(ticks_to_steps(length, TICKS_PER_BEAT, steps_per_beat)[0])
        counts["cut_at_segment_end"] += int((notes["onset"] + notes["duration"] > room).sum())
        notes["duration"] = np.minimum(notes["duration"], room - notes["onset"])
    notes = resolve_overlaps(notes, counts)
    if not len(notes):
        return None
    try:
        bar = segment.meter.bar_steps(steps_per_beat)
    except ValueError as error:
        raise Skip(f"meter {segment.meter} does not fit the grid") from error
    empty_bars = int(notes["onset"].min()) // bar
    counts["leading_empty_bars"] += empty_bars
    notes["onset"] -= empty_bars * bar
    return Piece(
        notes=notes,
        parts=parts,
        meter=segment.meter,
        steps_per_beat=steps_per_beat,
        pickup=-int(notes["onset"].min()) % bar,
        tempos=((0, TEMPO),),
        keys=((0, piece_key),),
    )


def convert(path: Path, steps_per_beat: int) -> Section:
    """Convert one corpus file into its pieces (one, or more where the meter changes)."""
    section = Section(path.stem)
    score = converter.parse(path)
    if not isinstance(score, stream.Score) or not score.parts:
        raise Skip("not a score")
    section.work = str(score.metadata.parentTitle or "") if score.metadata else ""
    if not section.work:
        raise Skip("no parent-work title (!!!OPR)")
    written = [part.stripTies() for part in score.parts]
    if len({tuple(m.offset for m in p.getElementsByClass(stream.Measure)) for p in written}) > 1:
        raise Skip("voices disagree on bar lines")
    tables = [melody_table(part, section.counts) for part in written]
    sounding = [i for i, table in enumerate(tables) if len(table)]
    section.counts["silent_part_dropped"] += len(written) - len(sounding)
    if not sounding:
        raise Skip("no notes")
    for track, i in enumerate(sounding):
        tables[i][:, 3] = track
    table = np.concatenate([tables[i] for i in sounding])
    names = voice_names([written[i] for i in sounding])
    parts = tuple(Part(name, PROGRAM, False) for name in names)
    piece_key = section_key(written[sounding[0]], path)
    for segment in segments(written[sounding[0]], int(table[:, 0].max()), section.counts):
        piece = segment_piece(table, segment, parts, piece_key, steps_per_beat, section.counts)
        if piece is None or piece.complete_bars == 0:
            section.counts["segment_without_complete_bar"] += 1
            continue
        suffix = f"#{len(section.pieces) + 1}" if section.pieces else ""
        section.pieces.append(replace(piece, name=section.name + suffix))
    if not section.pieces:
        raise Skip("no complete bar")
    return section


def convert_file(path: Path, steps_per_beat: int) -> Section:
    """:func:`convert`, with a file that is left out returned with the reason (for the pool)."""
    try:
        return convert(path, steps_per_beat)
    except Skip as reason:
        return Section(path.stem, skipped=str(reason))
    except Exception as error:  # a file music21 cannot read: left out, counted
        return Section(path.stem, skipped=f"music21 failed: {type(error).__name__}")


def summarize(kept: list[Section], skipped: Counter[str], files: int) -> dict[str, object]:
    """What the build kept, for the printout and dataset.json."""
    pieces = [p for s in kept for p in s.pieces]
    works = {s.work for s in kept}
    bars: Counter[str] = Counter()
    for piece in pieces:
        bars[str(piece.meter)] += piece.complete_bars
    voices = Counter(part.name.rstrip(" 0123456789") for p in pieces for part in p.parts)
    return {
        "files": files,
        "files_kept": len(kept),
        "skipped": dict(skipped.most_common()),
        "works": len(works),
        "works_by_split": dict(Counter(mass_split(w) for w in works).most_common()),
        "pieces": len(pieces),
        "pieces_by_split": dict(Counter(mass_split(s.work) for s in kept for _ in s.pieces)),
        "pieces_by_meter": dict(Counter(str(p.meter) for p in pieces).most_common()),
        "bars_by_meter": dict(bars.most_common()),
        "pieces_by_voices": dict(sorted(Counter(len(p.parts) for p in pieces).items())),
        "voice_names": dict(voices.most_common()),
    }


def main() -> int:
    """Build, dedupe, split, write and summarize."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="only the first N files (a quick look)")
    parser.add_argument("--steps-per-beat", type=int, default=2, help="grid steps per quarter note")
    args = parser.parse_args()
    began = time.perf_counter()
    paths = corpus_files()[: args.limit]
    counts: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    seen: dict[bytes, str] = {}
    kept: list[Section] = []
    convert_one = partial(convert_file, steps_per_beat=args.steps_per_beat)
    with ProcessPoolExecutor(args.workers) as pool:
        for section in tqdm(pool.map(convert_one, paths, chunksize=4), total=len(paths), unit="file"):
            if section.skipped:
                skipped[section.skipped] += 1
                continue
            fingerprint = b"|".join(p.notes.tobytes() + str(p.meter).encode() for p in section.pieces)
            if fingerprint in seen:
                tqdm.write(f"duplicate: {section.name} has the notes of {seen[fingerprint]}, dropped")
                skipped["duplicate of an earlier file"] += 1
                continue
            seen[fingerprint] = section.name
            counts.update(section.counts)
            kept.append(section)
    with DatasetWriter(OUT / "dataset", overwrite=True) as writer:
        for section in kept:
            split = mass_split(section.work)
            for piece in section.pieces:
                meta = piece_to_meta(piece, source=section.name)
                writer.add(piece.notes, {**meta, "work": section.work, "split": split})
        summary = {**summarize(kept, skipped, len(paths)), "rules": dict(sorted(counts.items()))}
        source = "music21 corpus: palestrina"
        path = writer.close(source=source, steps_per_beat=args.steps_per_beat, **summary)
    for name, value in summary.items():
        print(f"{name}: {value}")
    size = sum(f.stat().st_size for f in path.iterdir())
    print(f"complete bars: {writer.totals['bars']}, notes: {writer.totals['notes']}")
    print(f"dataset: {size / 1e6:.2f} MB in {path}; took {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
