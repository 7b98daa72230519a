"""Build a general model's dataset from the bundled corpora, offline, in seconds: every piece
of the bundled Bach chorales, folk melodies and Palestrina masses that a model in the meter asked
for (4/4, 3/4, 2/4) at 4 steps per quarter note reads (in 4/4 the chorales and folk tunes in 4/4 and
the masses in 4/2 at 2 steps per quarter note, which has as many steps a bar; in 3/4 those in 3/4
and the masses in 3/2), each in the split its corpus gave it and with its style recorded. The
training pieces of the smaller corpora are written several times, so that each style gives about
as many training windows as the largest (in 4/4 the Palestrina sections, in 3/4 the tunes;
``--weights STYLE=W,...`` gives a style W times as many); validation and test pieces once.
``--cut STYLE,...`` also takes those styles' pieces whose bars hold a whole number of the model's,
counted in beats of as many steps, cut into the model's bars
(:func:`segue.pipeline.pieces.cut_bars`): for 2/4, ``--cut chorales,folk,palestrina`` cuts each bar
of the chorales and tunes in 4/4 and of the masses in 4/2 in two (the shipped ``general-2-4``).

    .venv/bin/python scripts/build_general.py --out runs/general-data
    .venv/bin/python scripts/build_general.py --meter 3/4 --out runs/general-3-4-data
    .venv/bin/python scripts/build_general.py --meter 2/4 \\
        --cut chorales,folk,palestrina --out runs/general-2-4-data

``segue train --config configs/general-cvae.toml --data runs/general-data`` then trains on it.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from pathlib import Path

from segue.data.dataset import DatasetWriter, piece_to_meta
from segue.data.splits import split_pieces
from segue.models.config import ModelConfig
from segue.music.piece import Piece
from segue.pipeline.pieces import cut_bars, on_grid
from segue.training.windows import WindowSampler

ASSETS = Path(__file__).resolve().parents[1] / "src" / "segue" / "assets"
SOURCES = {  # style: the dataset folder (None: the bundled chorales)
    "chorales": None,
    "folk": ASSETS / "folk" / "dataset",
    "palestrina": ASSETS / "palestrina" / "dataset",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--meter", default="4/4", help="the model's meter, at 4 steps per quarter note")
    parser.add_argument(
        "--cut", default="", metavar="STYLE,...", help="the styles whose pieces in longer bars are cut"
    )
    parser.add_argument(
        "--weights",
        default="",
        metavar="STYLE=W,...",
        help="give a style W times the training windows of the others (default: 1 each)",
    )
    args = parser.parse_args()
    grid = ModelConfig(meter=args.meter, steps_per_beat=4)

    cut = set(filter(None, args.cut.split(",")))
    unknown = sorted(cut - set(SOURCES))
    if unknown:
        parser.error(f"--cut: no such style {', '.join(unknown)}")
    weights = dict.fromkeys(SOURCES, 1.0)
    for item in filter(None, args.weights.split(",")):
        style, _, weight = item.partition("=")
        if style not in SOURCES:
            parser.error(f"--weights: no such style {style}")
        try:
            weights[style] = float(weight)
        except ValueError:
            parser.error(f"--weights: {item}: expected STYLE=NUMBER")
        if not 0 < weights[style] < math.inf:
            parser.error(f"--weights: {item}: the weight must be a positive number")

    def read(piece: Piece, style: str) -> Piece | None:
        fits = on_grid(piece, grid)
        return cut_bars(piece, grid) if fits is None and style in cut else fits

    pieces: dict[tuple[str, str], list[Piece]] = {}
    for style, folder in SOURCES.items():
        for split in ("train", "valid", "test"):
            fitting = (read(p, style) for p in split_pieces(folder, split))
            pieces[style, split] = [p for p in fitting if p is not None]
    windows = {style: len(WindowSampler(pieces[style, "train"], grid, 0)) for style in SOURCES}
    most = max(windows.values())
    copies = {style: max(1, round(weights[style] * most / count)) for style, count in windows.items()}
    written: Counter[str] = Counter()
    with DatasetWriter(args.out, overwrite=True) as writer:
        for (style, split), group in pieces.items():
            for copy in range(copies[style] if split == "train" else 1):
                for piece in group:
                    meta = piece_to_meta(piece, source=f"{style}/{piece.name}")
                    if copy:
                        meta["name"] = f"{piece.name} (copy {copy + 1})"
                    writer.add(piece.notes, {**meta, "split": split, "style": style})
                    written[f"{style} {split}"] += 1
        writer.close(copies=copies)
    for style in SOURCES:
        print(
            f"{style}: {windows[style]} training windows, train pieces written {copies[style]} times; "
            + ", ".join(f"{split} {written[f'{style} {split}']}" for split in ("train", "valid", "test"))
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
