"""Benchmark ``segue data build``: files per second and peak memory.

Two collections, written to a temporary folder first:

* the bundled chorales written out as MIDI, copied ``--chorale-copies`` times so that
  the timing is not dominated by starting worker processes;
* ``--synthetic`` random multi-track MIDI files (4 tracks, 16 bars, tempo changes,
  a drum track), and a tenth and three times as many, to show whether memory grows
  with the number of files.

Each build runs in a fresh child process; its wall time covers reading every file and
writing the dataset (not interpreter start-up), and peak memory is the largest
resident size of the main process and of any worker.

    .venv/bin/python benchmarks/data_build.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from segue.data.chorales import load_chorales
from segue.music.midi import midi_bytes
from segue.music.piece import Part, Piece, make_notes

CHILD = """
import json, resource, sys, time
from segue.data.build import build_dataset
start = time.perf_counter()
summary = build_dataset([sys.argv[1]], sys.argv[2], workers=int(sys.argv[3]), progress=False)
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds, "files": summary.files, "pieces": summary.pieces, "notes": summary.notes,
    "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def write_chorales(folder: Path, copies: int) -> int:
    """Write every bundled chorale as MIDI, ``copies`` times; returns the file count."""
    folder.mkdir(parents=True)
    count = 0
    for piece in load_chorales():
        data = midi_bytes(piece)
        for copy in range(copies):
            (folder / f"{piece.name}-{copy}.mid").write_bytes(data)
            count += 1
    return count


def synthetic_piece(rng: np.random.Generator, index: int) -> Piece:
    """A random 4-track piece of 16 bars in 4/4 with a drum track and tempo changes."""
    tracks = []
    for track in range(4):
        onsets = np.arange(0, 16 * 16, int(rng.choice([2, 4, 8])))
        pitch = rng.integers(36, 84, len(onsets)) if track < 3 else rng.choice([36, 38, 42], len(onsets))
        tracks.append(make_notes(onsets, 2, pitch, rng.integers(40, 120, len(onsets)), track))
    parts = (Part("lead", 0), Part("pad", 48), Part("bass", 33), Part("drums", 0, True))
    tempos = ((0, 500_000), (64, int(rng.integers(300_000, 900_000))))
    return Piece(np.concatenate(tracks), parts, tempos=tempos, name=f"synthetic{index}")


def write_synthetic(folder: Path, count: int, seed: int = 0) -> int:
    """Write ``count`` synthetic files; returns the count."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        (folder / f"s{i:06d}.mid").write_bytes(midi_bytes(synthetic_piece(rng, i)))
    return count


def run_build(source: Path, out: Path, workers: int) -> dict[str, float]:
    """Build in a child process and return its measurements."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(source), str(out), str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chorale-copies", type=int, default=8)
    parser.add_argument("--synthetic", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        sets = {
            f"chorales x{args.chorale_copies}": (
                root / "chorales",
                write_chorales(root / "chorales", args.chorale_copies),
            ),
            f"synthetic {args.synthetic // 10}": (
                root / "small",
                write_synthetic(root / "small", args.synthetic // 10),
            ),
            f"synthetic {args.synthetic}": (
                root / "large",
                write_synthetic(root / "large", args.synthetic, seed=1),
            ),
            f"synthetic {3 * args.synthetic}": (
                root / "huge",
                write_synthetic(root / "huge", 3 * args.synthetic, seed=2),
            ),
        }
        print(f"wrote the inputs in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        print(
            "| collection | files | workers | seconds | files/s | notes/s | peak RSS main | peak RSS worker |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label, (folder, count) in sets.items():
            for workers in args.workers:
                out = root / f"out-{folder.name}-{workers}"
                m = run_build(folder, out, workers)
                assert m["files"] == count, (m, count)
                rate, notes = count / m["seconds"], m["notes"] / m["seconds"]
                print(
                    f"| {label} | {count} | {workers} | {m['seconds']:.2f} | {rate:,.0f} | {notes:,.0f} "
                    f"| {m['rss_main_mb']:.0f} MB | {m['rss_worker_mb']:.0f} MB |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
