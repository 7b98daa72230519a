"""``segue demo``: the main job on the bundled default."""

from __future__ import annotations

import argparse
from pathlib import Path

from segue.data.chorales import load_chorales, load_splits, split_indices
from segue.music.midi import write_midi
from segue.render import plot_pianoroll


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``demo``."""
    demo = subparsers.add_parser("demo", help="write a bundled test chorale as MIDI and a piano-roll PNG")
    demo.add_argument("--out", type=Path, default=Path("demo"), help="output folder (default: demo)")
    demo.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the first test chorale as MIDI and PNG and print their paths."""
    dataset = load_chorales()
    indices = split_indices(dataset, "test")
    piece = dataset[indices[0]]
    midi = write_midi(piece, args.out / "chorale.mid")
    png = plot_pianoroll(
        piece,
        args.out / "chorale.png",
        title=f"{piece.name} (test split), {piece.key or 'unknown key'}, {piece.complete_bars} bars",
    )
    print(f"test chorale {piece.name} of {len(load_splits()['test'])} held-out chorales:")
    print(f"  MIDI      {midi}")
    print(f"  piano roll {png}")
    return 0
