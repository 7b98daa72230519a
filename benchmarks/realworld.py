"""The real-world check: continue MIDI files that no model trained on and compare each
continuation with the file's own next bars.

Sets (each a group in the report):
- folders of MIDI files given on the command line (public files fetched by
  ``scripts/fetch_realworld.sh``: band arrangements with drums, piano pieces, melodies);
- ``--held-out N``: up to N pieces of each bundled corpus's test split (the chorales, and the
  folk tunes of each meter), written as MIDI files first.

For every file: is it continued (``segue generate FILE --prime-bars K --bars 4``, K = 4 or half
its complete bars when it has fewer than 8)? Where the file has bars after the prime, the
continuation is compared with them (:mod:`segue.evaluation.texture`): drums kept, parts that play
in the real next bars playing in the continuation, notes per bar and notes sounding at once
(median ratios), the key's relation to the prime's, pitch-class correlation, register.

    .venv/bin/python benchmarks/realworld.py FOLDER... [--held-out 40] [--out docs/realworld]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

import numpy as np

from segue.data.chorales import load_chorales, split_indices
from segue.data.dataset import Dataset
from segue.data.splits import piece_split
from segue.errors import SegueError
from segue.evaluation.texture import WindowComparison, compare_window, in_window, summarize
from segue.music.midi import MidiFile, midi_bytes, parse_midi, read_midi
from segue.pipeline.catalog import Shelf
from segue.pipeline.continuation import continue_midi
from segue.training.precision import cpu_flags

BARS = 4
FOLK = Path(__file__).resolve().parents[1] / "src" / "segue" / "assets" / "folk" / "dataset"


def file_notes(midi: MidiFile, label: str) -> tuple[np.ndarray, int, int, set[int], str] | str:
    """The first piece's notes (tracks as file tracks), its first complete bar's step, bar length,
    the drum tracks and the meter; or why it cannot be read."""
    try:
        read = read_midi(midi, name=label, keep_drums=True)
    except SegueError as error:
        return str(error)
    piece, place = read.pieces[0], read.places[0]
    notes = piece.notes.copy()
    notes["track"] = np.asarray(place.source_tracks, dtype=np.int64)[notes["track"]]
    drums = {i for i, track in enumerate(midi.score.tracks) if track.is_drum}
    return notes, piece.first_bar * piece.bar_steps, piece.bar_steps, drums, str(piece.meter)


def check_file(path: Path, shelf: Shelf, seed: int) -> dict[str, object]:
    """Continue one file and compare; a dict of what happened (``comparison`` when compared)."""
    row: dict[str, object] = {"file": path.name}
    try:
        midi = parse_midi(path, path.name)
    except SegueError as error:
        return row | {"status": "unreadable", "reason": str(error)}
    read = file_notes(midi, path.name)
    if isinstance(read, str):
        return row | {"status": "unreadable", "reason": read}
    notes, first, bar, drums, meter = read
    complete = (int((notes["onset"] + notes["duration"]).max()) - first) // bar
    prime_bars = min(4, max(1, complete // 2))
    window = min(BARS, complete - prime_bars)
    row |= {"meter": meter, "complete_bars": complete, "prime_bars": prime_bars, "drums": bool(drums)}
    start = time.perf_counter()
    try:
        [continuation] = continue_midi(path, BARS, prime_bars=prime_bars, model=shelf, seed=seed)
    except SegueError as error:
        return row | {"status": "refused", "reason": str(error)}
    row |= {"status": "continued", "seconds": time.perf_counter() - start, "model": continuation.chosen}
    if window < 1:
        return row
    answer = file_notes(parse_midi(continuation.midi, "<continuation>"), "<continuation>")
    assert not isinstance(answer, str)
    cut = first + prime_bars * bar
    seam = continuation.seam_step
    prime = in_window(notes, max(cut - 4 * bar, first), cut)
    prime_drums = prime[np.isin(prime["track"], list(drums))]
    comparison = compare_window(
        prime[~np.isin(prime["track"], list(drums))],
        prime_drums,
        in_window(notes, cut, cut + window * bar),
        in_window(answer[0], seam, seam + window * bar),
        drums,
    )
    return row | {"comparison": asdict(comparison)}


def held_out_files(folder: Path, per_set: int, seed: int) -> dict[str, list[Path]]:
    """Write up to ``per_set`` test-split pieces of the chorales and of each folk meter as MIDI."""
    rng = np.random.default_rng(seed)
    sets: dict[str, list[Path]] = {}
    chorales = load_chorales()
    picks = split_indices(chorales, "test")
    sets["chorales (test split)"] = [_write(chorales, i, folder) for i in _sample(picks, per_set, rng)]
    folk = Dataset(FOLK)
    by_meter: dict[str, list[int]] = defaultdict(list)
    for i, meta in enumerate(folk.metas):
        if piece_split(meta) == "test" and meta["meter"] in ("2/4", "3/4", "4/4", "6/8", "3/8", "9/8", "6/4"):
            by_meter[meta["meter"]].append(i)
    for meter, indices in sorted(by_meter.items()):
        sets[f"folk {meter} (test split)"] = [_write(folk, i, folder) for i in _sample(indices, per_set, rng)]
    return sets


def _sample(indices: list[int], n: int, rng: np.random.Generator) -> list[int]:
    return sorted(rng.choice(indices, size=min(n, len(indices)), replace=False).tolist())


def _write(dataset: Dataset, index: int, folder: Path) -> Path:
    piece = dataset[index]
    path = folder / f"{piece.name.replace('/', '_')}.mid"
    path.write_bytes(midi_bytes(piece))
    return path


def report(groups: dict[str, list[dict[str, object]]]) -> str:
    """The markdown table of every group and of all files."""
    lines = [
        "| set | files | continued | refused | unreadable | compared | drums kept | parts kept | "
        "notes/bar ratio | at once ratio | key related (real) | pc corr. (real) | register off |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    everything = [row for rows in groups.values() for row in rows]
    for name, rows in [*groups.items(), ("all", everything)]:
        status = Counter(str(r["status"]) for r in rows)
        compared = [WindowComparison(**r["comparison"]) for r in rows if "comparison" in r]  # type: ignore[arg-type]
        s = summarize(compared)
        drums = f"{s['drums_kept']:.0%} of {s['windows_with_drums']}" if s["windows_with_drums"] else "-"
        lines.append(
            f"| {name} | {len(rows)} | {status['continued']} | {status['refused']} | {status['unreadable']} | "
            f"{len(compared)} | {drums} | {s['parts_kept']:.0%} | {s['notes_ratio']:.2f} | "
            f"{s['polyphony_ratio']:.2f} | {s['key_related']:.0%} ({s['real_key_related']:.0%}) | "
            f"{s['profile_correlation']:.2f} ({s['real_profile_correlation']:.2f}) | {s['register_offset']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, help="folders of MIDI files (each a set)")
    parser.add_argument("--held-out", type=int, default=0, help="test-split pieces per corpus set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write report.md and files.json here")
    args = parser.parse_args()
    shelf = Shelf()
    sets: dict[str, list[Path]] = {}
    for folder in args.folders:
        sets[folder.name] = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi", ".kar"))
    with tempfile.TemporaryDirectory() as temporary:
        if args.held_out:
            sets |= held_out_files(Path(temporary), args.held_out, args.seed)
        groups: dict[str, list[dict[str, object]]] = {}
        for name, paths in sets.items():
            groups[name] = []
            for number, path in enumerate(paths, 1):
                row = check_file(path, shelf, args.seed)
                groups[name].append(row)
                print(f"[{name} {number}/{len(paths)}] {path.name}: {row['status']} {row.get('reason', '')}",
                      file=sys.stderr)
    table = report(groups)
    header = f"CPU flags: {cpu_flags()}; seed {args.seed}; {BARS} bars continued\n\n"
    print(header + table)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.md").write_text(header + table + "\n")
        (args.out / "files.json").write_text(json.dumps(groups, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
