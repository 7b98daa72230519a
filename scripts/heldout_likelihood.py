"""How well model folders' generators predict held-out music: the token cross-entropy (nats per
token) of G rebuilding each real continuation of a split's windows from its prime, with z = 0
(the prior's mean) and, with the voice head, the real voices above each voice given (teacher
forcing). Every bar offset of the split's pieces, untransposed. A generator that has learned its
training pieces by heart scores far worse here than on the train split, which it also reports.

    .venv/bin/python scripts/heldout_likelihood.py FOLDER ... [--split valid] [--data DATASET]

FOLDER is a model folder or a shipped model's name (``shipped``: the chorales in 4/4).
"""

from __future__ import annotations

import argparse

import torch

from segue.data.splits import split_pieces
from segue.models.blocks import onehot
from segue.music.piece import Piece
from segue.pipeline.catalog import model_path
from segue.pipeline.model import SegueModel, load_model
from segue.training.windows import WindowSampler


@torch.no_grad()
def cross_entropy(model: SegueModel, pieces: list[Piece], most: int, batch: int = 128) -> tuple[float, int]:
    """Mean token cross-entropy of ``model``'s G on (at most ``most``) windows of ``pieces``, and
    how many windows it read (evenly spaced over all of them)."""
    windows = WindowSampler(pieces, model.config, max_transpose=0)
    picks = torch.linspace(0, len(windows) - 1, min(most, len(windows))).round().long().unique()
    G, vocab, total = model.generator.eval(), model.config.vocab, 0.0
    for chunk in picks.split(batch):
        context, real = windows.windows(chunk)
        z = torch.zeros(len(chunk), model.config.z_dim)
        logits = G.logits(onehot(context, vocab), z, given=onehot(real, vocab))
        loss = torch.nn.functional.cross_entropy(logits.float().transpose(1, 2), real, reduction="sum")
        total += float(loss)
    return total / (len(picks) * real.shape[1] * real.shape[2]), len(picks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--split", choices=("valid", "test"), default="valid")
    parser.add_argument("--data", default=None, help="a dataset (default: the bundled chorales)")
    parser.add_argument("--windows", type=int, default=1000, help="most windows per split")
    args = parser.parse_args()
    held_out, train = split_pieces(args.data, args.split), split_pieces(args.data, "train")
    for folder in args.folders:
        model = load_model(None if folder == "shipped" else model_path(folder))
        ce, n = cross_entropy(model, held_out, args.windows)
        ce_train, n_train = cross_entropy(model, train, args.windows)
        held = f"{args.split} {ce:.3f} nats per token ({n} windows)"
        print(f"{folder}: {held}, train {ce_train:.3f} ({n_train})")


if __name__ == "__main__":
    main()
