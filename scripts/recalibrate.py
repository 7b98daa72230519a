"""Fit a model folder's sampler again, as ``segue train`` fits it at the end of a run (the chain
counted on the training pieces, then the calibration on continuations of training windows and of
the calibration half of the validation pieces), and write the model with it to OUT. For models
trained before the calibration read only that half: the same G and D, the sampler by today's rule.

    .venv/bin/python scripts/recalibrate.py FOLDER --out OUT [--data DATASET] [--textures] [--styles]
        [--ages L] [--together on|off]

FOLDER is a model folder or a shipped model's name (``shipped``: the chorales in 4/4); the sampler's
settings, the transpositions and the seed are the ones its training recorded. ``--data``: the
dataset it was trained on (default: the bundled chorales). ``--textures``: calibrate melodies and
parts apart (``[sampler] textures``), whatever its training said; ``--styles``: and the part music
of each style the dataset's pieces name (``[sampler] styles``). ``--ages L``: weigh notes going on
by how long they have sounded, L lengths apart (``[sampler] ages``; 0: not). ``--together on``:
weigh a voice striking by how many voices above it strike at the same step (``[sampler] together``).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from segue.configfile import from_dict
from segue.data.splits import split_pieces
from segue.pipeline.catalog import model_path
from segue.pipeline.model import load_model
from segue.sampler import SamplerConfig
from segue.training.calibration import calibrate_sampler, fit_sampler, validation_half
from segue.training.windows import WindowSampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--data", default=None, help="the dataset it trained on (default: the bundled chorales)"
    )
    parser.add_argument("--textures", action="store_true", help="calibrate melodies and parts apart")
    parser.add_argument(
        "--styles", action="store_true", help="and the part music of each style apart (implies --textures)"
    )
    parser.add_argument(
        "--ages", type=int, default=None, help="note lengths the age weights tell apart (0: none)"
    )
    parser.add_argument(
        "--together",
        choices=("on", "off"),
        default=None,
        help="weigh a voice striking by the voices above that strike at the same step",
    )
    args = parser.parse_args()
    model = load_model(None if args.folder == "shipped" else model_path(args.folder))
    settings = from_dict(SamplerConfig, model.info["sampler"], f"{args.folder} sampler")
    if args.textures or args.styles:
        settings = dataclasses.replace(settings, textures=True, styles=args.styles)
        model.info["sampler"] = {**model.info["sampler"], "textures": True, "styles": args.styles}
    if args.ages is not None:
        settings = dataclasses.replace(settings, ages=args.ages)
        model.info["sampler"] = {**model.info["sampler"], "ages": args.ages}
    if args.together is not None:
        settings = dataclasses.replace(settings, together=args.together == "on")
        model.info["sampler"] = {**model.info["sampler"], "together": args.together == "on"}
    train = model.info["train"]
    windows = WindowSampler(split_pieces(args.data, "train"), model.config, int(train["max_transpose"]))
    held_out = validation_half(split_pieces(args.data, "valid"), model.config, "calibration")
    transpose = int(train["max_transpose"])
    sampler = fit_sampler(windows, model.config, settings, transpose)
    model.sampler = calibrate_sampler(
        sampler, model.generator, windows, held_out, settings, int(train["seed"]), max_transpose=transpose
    )
    model.save(args.out)
    print(
        f"{args.out}: sampler counted on {windows.pieces} training pieces, "
        f"calibrated on them and {len(held_out)} validation pieces"
    )


if __name__ == "__main__":
    main()
