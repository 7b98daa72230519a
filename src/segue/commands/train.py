"""``segue train``: train the conditional GAN into a run directory."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from segue.errors import SegueError

if TYPE_CHECKING:  # imported where used, so that `segue generate` does not load training
    from segue.models.config import ModelConfig
    from segue.music.piece import Piece
    from segue.sampler.config import SamplerConfig
    from segue.training.config import TrainConfig


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``train``."""
    train = subparsers.add_parser("train", help="train the GAN (on the bundled chorales by default)")
    train.add_argument("--data", type=Path, metavar="DATASET", help="a dataset from `segue data build`")
    train.add_argument("--out", type=Path, required=True, metavar="RUN_DIR", help="the run directory")
    train.add_argument("--steps", type=int, help="generator updates (overrides the config)")
    train.add_argument(
        "--config", type=Path, metavar="FILE", help="TOML with [model], [train] and [sampler] tables"
    )
    train.add_argument("--resume", action="store_true", help="continue RUN_DIR from its last checkpoint")
    train.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, mps")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=run)


def load_configs(path: Path | None, steps: int | None) -> tuple[ModelConfig, TrainConfig, SamplerConfig]:
    """Configs from a TOML file (missing tables and keys take defaults)."""
    from segue.configfile import from_dict, load_toml
    from segue.models.config import ModelConfig
    from segue.sampler.config import SamplerConfig
    from segue.training.config import TrainConfig

    tables = load_toml(path) if path is not None else {}
    unknown = sorted(set(tables) - {"model", "train", "sampler", "run"})
    if unknown:
        raise SegueError(f"{path}: unknown table(s) {', '.join(unknown)}")
    model = from_dict(ModelConfig, tables.get("model", {}), f"{path} [model]")
    train_values = dict(tables.get("train", {}))
    if steps is not None:
        train_values["steps"] = steps
    train = from_dict(TrainConfig, train_values, f"{path} [train]")
    return model, train, from_dict(SamplerConfig, tables.get("sampler", {}), f"{path} [sampler]")


def training_pieces(data: Path | None) -> tuple[list[Piece], list[Piece], str]:
    """(train pieces, validation pieces, a description of the data)."""
    from segue.data.chorales import load_chorales, split_indices
    from segue.data.dataset import Dataset
    from segue.data.splits import piece_split

    if data is None:
        dataset = load_chorales()
        train = [dataset[i] for i in split_indices(dataset, "train")]
        valid = [dataset[i] for i in split_indices(dataset, "valid")]
        return train, valid, "bundled Bach chorales, train split"
    dataset = Dataset(data)
    pieces = {"train": [], "valid": []}  # type: dict[str, list[Piece]]
    for i, meta in enumerate(dataset.metas):
        split = piece_split(meta)
        if split in pieces:
            pieces[split].append(dataset[i])
    return (
        pieces["train"],
        pieces["valid"],
        f"{data}, train split (as its build recorded it, else by name hash)",
    )


def run(args: argparse.Namespace) -> int:
    """Train, or resume, and print where the model is."""
    from segue.training.calibration import validation_half
    from segue.training.trainer import Trainer

    config_path = args.config
    if args.resume and config_path is None and (args.out / "config.toml").exists():
        config_path = args.out / "config.toml"
    if args.resume and not (args.out / "checkpoints").is_dir():
        raise SegueError(f"{args.out}: nothing to resume (no checkpoints)")
    if not args.resume and args.out.exists() and any(args.out.iterdir()):
        raise SegueError(f"{args.out}: already holds a run; use --resume to continue it, or another folder")
    if args.steps is not None and not 1 <= args.steps <= 10_000_000:
        raise SegueError(f"--steps must be between 1 and 10,000,000, not {args.steps}")
    model_config, train_config, sampler_config = load_configs(config_path, args.steps)
    train, valid, info = training_pieces(args.data)
    trainer = Trainer(
        args.out,
        model_config,
        train_config,
        train,
        [p for p in valid if p.complete_bars >= 8 and str(p.meter) == model_config.meter][:4],
        sampler_config=sampler_config,
        held_out=validation_half(valid, model_config, "calibration"),
        device=args.device,
        progress=not args.quiet,
        data_info=info,
        picture=_picture,
    )
    if trainer.dist.main:
        print(f"precision: {trainer.precision}", flush=True)
    trainer.run(resume=args.resume)
    if trainer.dist.main:
        print(
            f"trained {trainer.step} steps on {trainer.windows.pieces} pieces "
            f"({len(trainer.windows)} windows); model in {args.out / 'model'}"
        )
    return 0


def _picture(piece: Piece, path: Path, seam: int, title: str) -> object:
    """A sample continuation's piano roll."""
    from segue.render import plot_pianoroll

    return plot_pianoroll(piece, path, title=title, seam=seam)
