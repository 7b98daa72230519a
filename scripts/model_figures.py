"""Pictures and note statistics of a model's continuations of held-out test chorales.

    .venv/bin/python scripts/model_figures.py [--model FOLDER] [--run RUN_DIR] [--out docs/images]

Writes ``continuations.png`` (three test chorales: 4 bars of Bach, then 8 generated bars, two
autoregressive steps of 4) and, given a run directory, ``training-curves.png``. Prints the
qualified-note rates of generated and real continuations of every test chorale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from segue import load_model
from segue.data.chorales import load_chorales, split_indices
from segue.evaluation.systems import model_system
from segue.music.tokens import from_tokens
from segue.pipeline.pieces import piece_tokens, prime_tokens, tokens_to_piece
from segue.render import plot_pianorolls, plot_training_curves
from segue.sampler.config import KEY_STRENGTH


def note_lengths(tokens: np.ndarray, lowest: int) -> np.ndarray:
    """Durations in steps of the notes in (V, S) tokens."""
    return from_tokens(tokens, lowest)["duration"]


def bach_after_prime(piece, net) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Bach's C bars after the prime, as (V, Sc) tokens."""
    config = net.config
    start = (piece.first_bar + config.context_bars) * config.steps_per_bar
    return piece_tokens(piece, config)[:, start : start + config.continuation_steps]


def mean_leap(tokens: np.ndarray, lowest: int) -> float:
    """Mean absolute interval, in semitones, between consecutive notes of each voice."""
    notes = from_tokens(tokens, lowest)
    leaps = [np.abs(np.diff(notes["pitch"][notes["track"] == v].astype(int))) for v in range(tokens.shape[0])]
    joined = np.concatenate(leaps)
    return float(joined.mean()) if len(joined) else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--run", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = load_model(args.model)
    net, config = model.generator, model.config
    chorales = load_chorales()
    tests = [chorales[i] for i in split_indices(chorales, "test")]
    usable = [p for p in tests if str(p.meter) == config.meter and p.complete_bars >= 12]
    primes = [(p, t) for p in usable if (t := prime_tokens(p, net)) is not None]
    bars = 2 * config.continuation_bars
    draw = model_system(model, bars, key_strength=KEY_STRENGTH)  # as `segue generate` draws
    out = draw(np.stack([t for _, t in primes]), args.seed)
    shown = [0, len(primes) // 2, len(primes) - 1]
    pieces = [
        tokens_to_piece(np.concatenate([primes[i][1], out[i]], axis=1), net, primes[i][0], primes[i][0].name)
        for i in shown
    ]
    titles = [
        f"{p.name} (test split): {config.context_bars} bars of Bach, then {bars} generated bars"
        for p in pieces
    ]
    path = plot_pianorolls(
        pieces, args.out / "continuations.png", titles=titles, seams=[config.context_steps] * 3
    )
    print(f"wrote {path}")
    if args.run is not None:
        print(f"wrote {plot_training_curves(args.run / 'metrics.csv', args.out / 'training-curves.png')}")
    generated = np.concatenate(
        [note_lengths(t, config.lowest) for t in out[:, :, : config.continuation_steps]]
    )
    real_grids = [bach_after_prime(p, net) for p, _ in primes]
    real_lengths = np.concatenate([note_lengths(t, config.lowest) for t in real_grids])
    generated_leap = np.mean([mean_leap(t[:, : config.continuation_steps], config.lowest) for t in out])
    real_leap = np.mean([mean_leap(t, config.lowest) for t in real_grids])
    print(f"mean interval within a voice: generated {generated_leap:.2f}, Bach {real_leap:.2f} semitones")
    print(
        f"{len(primes)} test chorales, {config.continuation_bars} bars after the prime: generated and Bach's"
    )
    for label, lengths in (("generated", generated), ("Bach", real_lengths)):
        qn = float((lengths >= 1).mean())
        eighth = float((lengths >= 2).mean())
        print(
            f"  {label:9} notes {len(lengths):5d}  QN (>= a 32nd) {qn:.3f}  share >= an eighth {eighth:.3f}"
            f"  mean length {lengths.mean():.2f} steps"
        )


if __name__ == "__main__":
    main()
