"""``segue data build`` and ``segue data info``."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from segue.errors import SegueError

if TYPE_CHECKING:  # imported where used: the CLI starts without them
    import numpy as np

    from segue.data.dataset import Dataset


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``data build`` and ``data info``."""
    data = subparsers.add_parser("data", help="build and inspect datasets")
    verbs = data.add_subparsers(dest="verb", required=True, metavar="{build,info}")

    build = verbs.add_parser("build", help="build a dataset from MIDI files and folders")
    build.add_argument(
        "sources", nargs="+", metavar="SRC", help="MIDI files or folders (searched recursively)"
    )
    build.add_argument(
        "--out", required=True, type=Path, metavar="DATASET", help="the dataset folder to write"
    )
    build.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    build.add_argument(
        "--steps-per-beat", type=int, default=4, help="grid resolution per quarter note (default 4)"
    )
    build.add_argument("--keep-drums", action="store_true", help="keep drum tracks (dropped by default)")
    build.add_argument("--overwrite", action="store_true", help="replace DATASET if it exists")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=run_build)

    info = verbs.add_parser("info", help="summarise a dataset")
    info.add_argument("dataset", type=Path, metavar="DATASET")
    info.set_defaults(func=run_info)


def run_build(args: argparse.Namespace) -> int:
    """Build a dataset and print its summary."""
    from segue.data.build import ReadOptions, build_dataset

    if args.workers is not None and not 1 <= args.workers <= 256:
        raise SegueError(f"--workers must be between 1 and 256, not {args.workers}")
    if not 1 <= args.steps_per_beat <= 96:
        raise SegueError(f"--steps-per-beat must be between 1 and 96, not {args.steps_per_beat}")
    options = ReadOptions(steps_per_beat=args.steps_per_beat, keep_drums=args.keep_drums)
    summary = build_dataset(
        args.sources,
        args.out,
        options=options,
        workers=args.workers,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    print(
        f"wrote {args.out}: {summary.pieces} pieces, {summary.bars} bars, {summary.notes} notes "
        f"from {summary.files_used} of {summary.files} files"
    )
    if summary.skipped:
        reasons = ", ".join(f"{n} {reason}" for reason, n in summary.skipped.most_common())
        print(
            f"skipped {sum(summary.skipped.values())} files: {reasons} (list in {args.out / 'skipped.tsv'})"
        )
    changed = {rule: n for rule, n in summary.rules.most_common() if n}
    if changed:
        print("reading rules applied: " + ", ".join(f"{rule} {n}" for rule, n in changed.items()))
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Print what a dataset holds."""
    from segue.data.dataset import Dataset

    dataset = Dataset(args.dataset)
    for line in describe(dataset):
        print(line)
    return 0


def describe(dataset: Dataset) -> list[str]:
    """Lines describing a dataset: counts, meters, tracks and a pitch histogram."""
    import numpy as np

    metas = dataset.metas
    meters = Counter(m["meter"] for m in metas)
    tracks = Counter(len(m["parts"]) for m in metas)
    bars = sum(int(m["bars"]) for m in metas)
    histogram = np.zeros(128, dtype=np.int64)
    for notes in dataset.all_notes():
        histogram += np.bincount(np.asarray(notes["pitch"]), minlength=128)
    lines = [
        f"dataset   {dataset.path}",
        f"pieces    {len(dataset)}",
        f"bars      {bars} complete",
        f"notes     {int(histogram.sum())}",
        "meters    " + ", ".join(f"{m} ({n})" for m, n in meters.most_common()),
        "tracks    " + ", ".join(f"{t} track{'s' * (t != 1)} ({n})" for t, n in sorted(tracks.items())),
        f"pickups   {sum(1 for m in metas if m['pickup'])}",
    ]
    skipped = dataset.info.get("skipped")
    if skipped:
        lines.append("skipped   " + ", ".join(f"{r} ({n})" for r, n in skipped.items()))
    return lines + pitch_histogram(histogram)


def pitch_histogram(histogram: np.ndarray, width: int = 50) -> list[str]:
    """A text histogram of note counts per octave of pitches."""
    import numpy as np

    from segue.render import pitch_name

    used = np.nonzero(histogram)[0]
    if not len(used):
        return ["pitches   none"]
    lines = [f"pitches   {pitch_name(int(used[0]))} to {pitch_name(int(used[-1]))}, notes per octave:"]
    top = max(int(histogram[o * 12 : o * 12 + 12].sum()) for o in range(11))
    for octave in range(int(used[0]) // 12, int(used[-1]) // 12 + 1):
        count = int(histogram[octave * 12 : octave * 12 + 12].sum())
        bar = "#" * round(width * count / top)
        lines.append(
            f"  {pitch_name(octave * 12):>4}-{pitch_name(min(octave * 12 + 11, 127)):<4} {bar} {count}"
        )
    return lines
