"""``segue evaluate``: continuations of test pieces against real music and baselines."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from segue.errors import SegueError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evaluate``."""
    p = subparsers.add_parser("evaluate", help="measure continuations against real music and baselines")
    p.add_argument("--model", type=Path, default=None, help="a model folder (default: the shipped model)")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DATASET",
        help="a dataset (its test split by name hash); default: the bundled chorales' test split",
    )
    p.add_argument("--prime-bars", type=int, default=4, metavar="K", help="bars of prime (default 4)")
    p.add_argument("--bars", type=int, default=4, metavar="N", help="bars to continue (default 4)")
    p.add_argument("--seeds", type=int, default=2, metavar="S", help="GAN seeds, for diversity (default 2)")
    p.add_argument("--windows", type=int, default=3, help="windows per test piece (default 3)")
    p.add_argument("--out", type=Path, default=Path("report"), metavar="REPORT_DIR")
    p.add_argument("--quick", action="store_true", help="one window per piece, for a fast check")
    p.add_argument(
        "--cvae",
        default=None,
        metavar="PATH",
        help="the conditional-VAE baseline (default: the shipped one; 'none' to skip it)",
    )
    p.add_argument(
        "--run",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="a run directory (or a folder with metrics.csv) whose training curves to draw",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and write report.md, report.json and pictures."""
    for name, value, low, high in (
        ("--prime-bars", args.prime_bars, 1, 64),
        ("--bars", args.bars, 1, 64),
        ("--seeds", args.seeds, 2, 16),
        ("--windows", args.windows, 1, 100),
    ):
        if not low <= value <= high:
            raise SegueError(f"{name} must be between {low} and {high}, not {value}")
    from segue import load_model
    from segue.evaluation import evaluate

    model = load_model(args.model)
    test, train, source = _pieces(args.data)
    others = {}
    if args.cvae != "none":
        from segue.modelfile import baseline_model_dir

        cvae = Path(args.cvae) if args.cvae is not None else baseline_model_dir("cvae")
        if args.cvae is not None or (cvae / "config.json").is_file():
            others["CVAE"] = load_model(cvae)
    report = evaluate(
        model,
        test,
        train,
        prime_bars=args.prime_bars,
        bars=args.bars,
        per_piece=1 if args.quick else args.windows,
        seed=0,
        others=others,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    document = {
        "model": str(args.model or "shipped"),
        "data": source,
        "prime_bars": args.prime_bars,
        "bars": args.bars,
        "windows": report.windows,
        "pieces": report.pieces,
        "table": report.table,
    }
    (args.out / "report.json").write_text(json.dumps(document, indent=2) + "\n")
    markdown = render_markdown(document)
    (args.out / "report.md").write_text(markdown)
    _pictures(report, model, args.out)
    if args.run is not None:
        from segue.render import plot_training_curves

        if not (args.run / "metrics.csv").is_file():
            raise SegueError(f"{args.run}: no metrics.csv")
        plot_training_curves(args.run / "metrics.csv", args.out / "training-curves.png")
    print(markdown)
    print(f"wrote {args.out / 'report.md'}, {args.out / 'report.json'} and pictures in {args.out}")
    return 0


def _pieces(data: Path | None):  # type: ignore[no-untyped-def]
    if data is None:
        from segue.data.chorales import load_chorales, split_indices

        chorales = load_chorales()
        test = [chorales[i] for i in split_indices(chorales, "test")]
        train = [chorales[i] for i in split_indices(chorales, "train")]
        return test, train, "bundled Bach chorales, test split (train split for the Markov baseline)"
    from segue.data.dataset import Dataset
    from segue.data.splits import split_of

    dataset = Dataset(data)
    splits = [split_of(m["name"]) for m in dataset.metas]
    test = [dataset[i] for i, s in enumerate(splits) if s == "test"]
    train = [dataset[i] for i, s in enumerate(splits) if s == "train"]
    return test, train, f"{data}, test split by name hash"


def render_markdown(document: dict) -> str:  # type: ignore[type-arg]
    """The report as Markdown: a row per system, a column per metric."""
    table = document["table"]
    columns = list(next(iter(table.values())).keys())
    for row in table.values():
        columns += [c for c in row if c not in columns]
    lines = [
        f"# segue evaluate: {document['model']} model",
        "",
        f"{document['windows']} windows from {document['pieces']} pieces of {document['data']}; "
        f"{document['prime_bars']} bars of prime, {document['bars']} bars continued.",
        "",
        "| system | " + " | ".join(columns) + " |",
        "| --- | " + " | ".join("---:" for _ in columns) + " |",
    ]
    for system, row in table.items():
        cells = [f"{row[c]:.3f}" if c in row else "" for c in columns]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _pictures(report, model, out: Path) -> None:  # type: ignore[no-untyped-def]
    from segue.render import plot_histograms, plot_pianorolls
    from segue.training.samples import tokens_to_piece

    count = min(4, len(report.primes))
    pieces = [
        tokens_to_piece(
            np.concatenate([report.primes[i], report.continuations["GAN"][i]], axis=1),
            model.generator,
            name=f"test window {i + 1}",
        )
        for i in range(count)
    ]
    seams = [report.primes.shape[2]] * count
    titles = [p.name + ": prime, then the GAN" for p in pieces]
    plot_pianorolls(pieces, out / "samples.png", titles=titles, seams=seams)
    plot_histograms(report.bar_stats, out / "histograms.png", reference="Bach (real)")
