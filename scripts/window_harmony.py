"""Two statistics of a window's harmony as a whole, real against drawn, on the choice half of the
validation pieces: how many pitch classes a 4-bar continuation uses, and how often a lower voice's
new note has a pitch class that the voices above it do not sound nearby (the same step, within 2,
4 or 8 steps, or anywhere in the continuation). Pooled statistics (the calibration's) can match
while these do not: the same chromatic notes spread over every window instead of gathered in the
windows that modulate, or voices that each sound well against the others at every step but do not
keep to one harmony over a beat. A lab tool; it reads no test split.

    .venv/bin/python scripts/window_harmony.py NAME=FOLDER[:plain|:key|:keyS] ... [--data DS] [--draws 3]
"""

from __future__ import annotations

import numpy as np
from system_spec import choice_half

from segue.music.tokens import FIRST_PITCH
from segue.sampler.states import sounding_pitches

REACHES = (0, 2, 4, 8, None)
"""How far (in steps, either side) the voices above are searched for a new note's pitch class;
None: the whole continuation."""


def pitch_classes(sounding: np.ndarray) -> np.ndarray:
    """(W,) how many pitch classes sound in each of (W, V, S) windows' pitch indices (-1 silent)."""
    out = np.zeros(len(sounding), dtype=np.int64)
    for w, window in enumerate(sounding):
        out[w] = len(np.unique(window[window >= 0] % 12))
    return out


def apart(sounding: np.ndarray, tokens: np.ndarray, reach: int | None) -> list[float]:
    """For each voice below the top: the share of its new notes in (W, V, S) ``tokens`` whose
    pitch class the voices above do not sound within ``reach`` steps (None: anywhere)."""
    shares = []
    steps = tokens.shape[2]
    for v in range(1, tokens.shape[1]):
        missed = total = 0
        for w, t in zip(*np.nonzero(tokens[:, v] >= FIRST_PITCH), strict=True):
            low, high = (0, steps) if reach is None else (max(0, t - reach), t + reach + 1)
            above = sounding[w, :v, low:high]
            missed += int((sounding[w, v, t] % 12) not in set((above[above >= 0] % 12).tolist()))
            total += 1
        shares.append(missed / max(total, 1))
    return shares


def main() -> None:
    half = choice_half(__doc__.split("\n\n")[0])
    config, windows = half.config, half.windows
    pitches, prime_steps = config.vocab - 2, windows.primes.shape[2]

    def sounding(continuations: np.ndarray) -> np.ndarray:
        both = np.concatenate([windows.primes, continuations], axis=2)
        return sounding_pitches(both, pitches)[:, :, prime_steps:]

    def show(name: str, drawn: list[np.ndarray]) -> None:
        played = [sounding(d) for d in drawn]
        counts = np.concatenate([pitch_classes(p) for p in played])
        cells = []
        for reach in REACHES:
            shares = np.mean([apart(p, d, reach) for p, d in zip(played, drawn, strict=True)], axis=0)
            cells.append(" ".join(f"{s:.3f}" for s in shares))
        histogram = np.bincount(counts, minlength=13)[6:13] / len(counts)
        print(
            f"{name}: pitch classes {counts.mean():.2f} (6-12: {' '.join(f'{h:.2f}' for h in histogram)}); "
            + "; ".join(f"apart within {r if r is not None else 'all'}: {c}" for r, c in zip(REACHES, cells))
        )

    half.report(show)


if __name__ == "__main__":
    main()
