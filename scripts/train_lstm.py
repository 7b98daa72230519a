"""Train the autoregressive LSTM baseline on the bundled chorales' train split (or a dataset's).

    .venv/bin/python scripts/train_lstm.py [--steps 2000] [--out src/segue/assets/baselines/lstm]
    .venv/bin/python scripts/train_lstm.py --model folk-6-8 --data src/segue/assets/folk/dataset \
        --out src/segue/assets/baselines/lstm-folk-6-8

It reads the token space (voices, pitch range, meter, window) from the GAN (``--model``: a shipped
model's name or a folder; default the chorale model) so that `segue evaluate` compares the two on
the same windows; with ``--data`` it learns from that dataset's train pieces in the model's meter
(its recorded splits, else the name hash) and validates on its valid pieces. Prints the train and
validation cross-entropy and the wall time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from segue import load_model
from segue.data.chorales import load_chorales, split_indices
from segue.data.dataset import Dataset
from segue.data.splits import piece_split
from segue.models.lstm import LSTMConfig
from segue.pipeline.catalog import model_path
from segue.pipeline.lstm import save_lstm
from segue.pipeline.model import baseline_model_dir
from segue.training.lstm import train_lstm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="the GAN whose token space to use (a name or a folder)")
    parser.add_argument("--data", type=Path, default=None, help="a dataset (default: the bundled chorales)")
    parser.add_argument("--out", type=Path, default=baseline_model_dir("lstm"))
    args = parser.parse_args()
    gan = load_model(None if args.model is None else model_path(args.model))
    model_config = gan.config
    if args.data is None:
        chorales = load_chorales()
        train = [chorales[i] for i in split_indices(chorales, "train")]
        valid = [chorales[i] for i in split_indices(chorales, "valid")]
    else:
        dataset = Dataset(args.data)
        fits = [i for i, m in enumerate(dataset.metas) if m["meter"] == model_config.meter]
        train = [dataset[i] for i in fits if piece_split(dataset.metas[i]) == "train"]
        valid = [dataset[i] for i in fits if piece_split(dataset.metas[i]) == "valid"]
    config = LSTMConfig(
        voices=model_config.voices, vocab=model_config.vocab, hidden=args.hidden, layers=args.layers
    )
    began = time.perf_counter()
    net, losses = train_lstm(
        train,
        model_config,
        config,
        steps=args.steps,
        batch_size=args.batch,
        lr=args.lr,
        seed=args.seed,
        valid=valid,
    )
    seconds = time.perf_counter() - began
    info = {"steps": args.steps, "batch_size": args.batch, "lr": args.lr, "seed": args.seed, **losses}
    save_lstm(net, model_config, args.out, {**info, "train_seconds": round(seconds, 1)})
    print(f"{losses} in {seconds / 60:.1f} min; wrote {args.out}")


if __name__ == "__main__":
    main()
