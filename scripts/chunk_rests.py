"""How often a model's long continuation falls silent over the last beat of a chunk, against the
other beats and against the real music: a model trained on windows that ended on a final bar cut
short by a pickup (padded with rests) learned to end its chunks with a rest, which a listener hears
as a gap every few bars. Every bar offset of the validation pieces (4 bars of prime); the real
figure reads the 4 real bars after each prime. A lab tool; it reads no test split.

    .venv/bin/python scripts/chunk_rests.py NAME=FOLDER[:plain|:key|:keyS] ... [--data DS] [--bars 12]
"""

from __future__ import annotations

import argparse

import numpy as np
from system_spec import GRAMMAR, parse_system

from segue.data.splits import split_pieces
from segue.evaluation.windows import test_windows
from segue.music.tokens import FIRST_PITCH
from segue.sampler.states import to_states


def silent_beats(
    primes: np.ndarray, tokens: np.ndarray, chunk: int, beat: int, pitches: int
) -> tuple[float, float]:
    """The share of chunks whose last beat is silent in every voice, and the same share over the
    other beats, in (W, V, S) continuation tokens cut into chunks of ``chunk`` steps and beats of
    ``beat``. Silence is read as the project reads tokens (a hold after a rest is a rest), with the
    (W, V, P) primes before them so that a note held over the seam sounds."""
    windows, voices, steps = tokens.shape
    states = to_states(np.concatenate([primes, tokens], axis=-1), pitches)[..., primes.shape[-1] :]
    silent = (states == 0).reshape(windows, voices, steps // beat, beat).all(axis=(1, 3))
    last = np.zeros(steps // beat, dtype=bool)
    last[chunk // beat - 1 :: chunk // beat] = True
    return float(silent[:, last].mean()), float(silent[:, ~last].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("systems", nargs="+", metavar=GRAMMAR)
    parser.add_argument("--data", default=None, help="a dataset (default: the bundled chorales)")
    parser.add_argument("--bars", type=int, default=12, help="bars each prime is continued by")
    parser.add_argument("--draws", type=int, default=2, help="draws (seeds) per system")
    args = parser.parse_args()
    specs = [parse_system(spec) for spec in args.systems]
    models = [spec.load() for spec in specs]
    config = models[0].config
    windows = test_windows(split_pieces(args.data, "valid"), models[0], 4, 4, 40, 1)
    shape = config.continuation_steps, config.steps_per_beat, config.vocab - FIRST_PITCH
    print(f"{len(windows.primes)} windows; silent last beat of a chunk / other beats, every voice resting")
    print("real (4 bars): {:.3f} / {:.3f}".format(*silent_beats(windows.primes, windows.reals, *shape)))
    for spec, model in zip(specs, models, strict=True):
        system = spec.continuer(model, args.bars)
        draws = [system(windows.primes, seed) for seed in range(args.draws)]
        shares = [silent_beats(windows.primes, tokens, *shape) for tokens in draws]
        last, other = np.mean(shares, axis=0)
        print(f"{spec.name} ({args.bars} bars): {last:.3f} / {other:.3f}")


if __name__ == "__main__":
    main()
