"""``segue evaluate``: continuations of test pieces against real music and baselines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from segue.errors import SegueError
from segue.sampler.config import KEY_STRENGTH

if TYPE_CHECKING:
    from segue.pipeline.model import SegueModel


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evaluate``."""
    p = subparsers.add_parser("evaluate", help="measure continuations against real music and baselines")
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME|PATH",
        help="a shipped model (see `segue models`) or a model folder (default: the chorales in 4/4)",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DATASET",
        help="a dataset (its test split by name hash); default: the bundled chorales' test split",
    )
    p.add_argument("--prime-bars", type=int, default=4, metavar="K", help="bars of prime (default 4)")
    p.add_argument("--bars", type=int, default=4, metavar="N", help="bars to continue (default 4)")
    p.add_argument(
        "--seeds",
        type=int,
        default=2,
        metavar="S",
        help="seeds per generative system, for diversity (default 2)",
    )
    p.add_argument("--windows", type=int, default=20, help="most windows per test piece (default 20)")
    p.add_argument(
        "--stride",
        type=int,
        default=1,
        help="bars between windows of one piece (default 1: every bar offset)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the first draw (the next seeds follow) and of the classifier's folds (default 0)",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        metavar="T",
        help="the GAN's sampling temperature (default 1)",
    )
    p.add_argument(
        "--key-strength",
        type=float,
        default=None,
        metavar="S",
        help="the key prior the GAN and plain G draw under, as `segue generate` draws "
        f"(default {KEY_STRENGTH}; 0: none)",
    )
    p.add_argument(
        "--critic-seeds",
        type=int,
        default=None,
        metavar="N",
        help="seeds of the learned critic for each system, reported as mean and spread "
        "(default 5, 1 with --quick; 0: none)",
    )
    p.add_argument("--out", type=Path, default=Path("report"), metavar="REPORT_DIR")
    p.add_argument("--quick", action="store_true", help="one window per piece, for a fast check")
    p.add_argument(
        "--cvae",
        default=None,
        metavar="PATH",
        help="the conditional-VAE baseline (default: the shipped one fitting the model; 'none': skip it)",
    )
    p.add_argument(
        "--lstm",
        default=None,
        metavar="PATH",
        help="the autoregressive LSTM baseline (default: the shipped one fitting the model; 'none': skip it)",
    )
    p.add_argument(
        "--run",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="a run directory (or a folder with metrics.csv) whose training curves to draw",
    )
    p.add_argument(
        "--plain",
        action="store_true",
        help="draw every note on its own, without the model's voice-leading prior",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and write report.md, report.json and pictures."""
    if args.critic_seeds is None:
        args.critic_seeds = 1 if args.quick else 5
    for name, value, low, high in (
        ("--prime-bars", args.prime_bars, 1, 64),
        ("--bars", args.bars, 1, 64),
        ("--seeds", args.seeds, 2, 16),
        ("--windows", args.windows, 1, 100),
        ("--stride", args.stride, 1, 64),
        ("--seed", args.seed, 0, 2**31 - 1),
        ("--critic-seeds", args.critic_seeds, 0, 16),
    ):
        if not low <= value <= high:
            raise SegueError(f"{name} must be between {low} and {high}, not {value}")
    if args.run is not None and not (args.run / "metrics.csv").is_file():
        raise SegueError(f"{args.run}: no metrics.csv")  # before the work, so no report is half-written
    from segue.pipeline.arguments import check_key_strength, check_temperature

    check_temperature(args.temperature)
    args.key_strength = KEY_STRENGTH if args.key_strength is None else args.key_strength
    check_key_strength(args.key_strength)
    from segue.evaluation import Continuer, evaluate, lstm_system, model_system, render_markdown
    from segue.pipeline.catalog import model_path
    from segue.pipeline.lstm import load_lstm
    from segue.pipeline.model import load_model
    from segue.sampler import PlainSampler, TexturedSampler, VoiceLeadingSampler

    model = load_model(None if args.model is None else model_path(args.model))
    if args.plain:
        model.sampler = PlainSampler()
    test, train, source = _pieces(args.data)
    others: dict[str, Continuer] = {}
    cvae = _baseline(args.cvae, "cvae", model)
    if cvae is not None:
        other = load_model(cvae)
        if (
            other.config.steps_per_bar != model.config.steps_per_bar
            or other.config.voices != model.config.voices
        ):
            raise SegueError(
                f"{cvae}: a model of another meter or voice count than {args.model or 'the GAN'}"
            )
        others["CVAE"] = model_system(other, args.bars)
    lstm = _baseline(args.lstm, "lstm", model)
    if lstm is not None:
        net, space = load_lstm(lstm)
        if (
            space.vocab != model.config.vocab
            or space.voices != model.config.voices
            or space.lowest != model.config.lowest
        ):
            raise SegueError(f"{lstm}: an LSTM of another pitch range or voice count than the GAN's")
        others["LSTM"] = lstm_system(net, args.bars, model.config.steps_per_bar)
    report = evaluate(
        model,
        test,
        train,
        prime_bars=args.prime_bars,
        bars=args.bars,
        per_piece=1 if args.quick else args.windows,
        stride=args.stride,
        seeds=args.seeds,
        seed=args.seed,
        others=others,
        temperature=args.temperature,
        key_strength=args.key_strength,
        critic_seeds=args.critic_seeds,
        progress=sys.stderr.isatty(),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    document = {
        "model": str(args.model or "shipped"),
        "data": source,
        "temperature": args.temperature,
        "key_strength": args.key_strength,
        "seed": args.seed,
        "line_prior": None  # the voice-leading sampler, under the name earlier reports gave it
        if not isinstance(model.sampler, (VoiceLeadingSampler, TexturedSampler))
        else {
            "strength": model.sampler.strength,
            "parallels": model.sampler.parallels,
            "calibrated": isinstance(model.sampler, TexturedSampler) or model.sampler.calibration is not None,
            **(
                {"textures": list(model.sampler.samplers)}
                if isinstance(model.sampler, TexturedSampler)
                else {}
            ),
        },
        "prime_bars": args.prime_bars,
        "bars": args.bars,
        "windows": report.windows,
        "pieces": report.pieces,
        "table": report.table,
        "telltales": report.telltales,
    }
    (args.out / "report.json").write_text(json.dumps(document, indent=2) + "\n")
    markdown = render_markdown(document)
    (args.out / "report.md").write_text(markdown)
    _pictures(report, model, args.out)
    if args.run is not None:
        from segue.render import plot_training_curves

        plot_training_curves(args.run / "metrics.csv", args.out / "training-curves.png")
    print(markdown)
    print(f"wrote {args.out / 'report.md'}, {args.out / 'report.json'} and pictures in {args.out}")
    return 0


def _baseline(option: str | None, kind: str, model: SegueModel) -> Path | None:
    """The baseline folder an option names: given; else the shipped one of that kind (``cvae``,
    ``cvae-3-4`` ...) made for the model's meter, voices and pitch range, the one the model was
    started from first (``cvae-general`` for the general model, whose shape the chorales' also
    has); else none."""
    from segue.pipeline.model import baseline_model_dir, read_config

    if option == "none":
        return None
    if option is not None:
        return Path(option)
    config = model.config
    shipped = baseline_model_dir(kind).parent
    start = Path(str(model.info.get("train", {}).get("init") or "")).name
    # the baseline made for the same data: the CVAE started from, the LSTM of the same suffix
    own = kind + start.removeprefix("cvae") if start.startswith("cvae") else None
    for folder in sorted(shipped.glob(f"{kind}*"), key=lambda f: (f.name != own, f.name)):
        if (folder / "config.json").is_file():
            theirs, _ = read_config(folder)
            if (theirs.meter, theirs.steps_per_beat, theirs.voices, theirs.lowest, theirs.vocab) == (
                config.meter,
                config.steps_per_beat,
                config.voices,
                config.lowest,
                config.vocab,
            ):
                return folder
    voices = f"{config.voices} voice" + ("s" if config.voices != 1 else "")
    print(f"no shipped {kind} baseline for a {config.meter} model of {voices}: left out")
    return None


def _pieces(data: Path | None):  # type: ignore[no-untyped-def]
    from segue.data.splits import split_pieces

    test, train = split_pieces(data, "test"), split_pieces(data, "train")
    if data is None:
        return test, train, "bundled Bach chorales, test split (train split: Markov baseline, copy count)"
    return test, train, f"{data}, test split (as its build recorded it, else by name hash)"


def _pictures(report, model, out: Path) -> None:  # type: ignore[no-untyped-def]
    from segue.pipeline.pieces import tokens_to_piece
    from segue.render import plot_histograms, plot_pianorolls

    # the first window of each of four different test pieces
    chosen = sorted(np.unique(report.owners, return_index=True)[1].tolist())[:4]
    pieces = [
        tokens_to_piece(
            np.concatenate([report.primes[i], report.continuations["GAN"][i]], axis=1),
            model.generator,
            name=f"test window {i + 1}",
        )
        for i in chosen
    ]
    seams = [report.primes.shape[2]] * len(chosen)
    titles = [p.name + ": prime, then the GAN" for p in pieces]
    plot_pianorolls(pieces, out / "samples.png", titles=titles, seams=seams)
    plot_histograms(report.bar_stats, out / "histograms.png", reference="Bach (real)")
