"""Second-order statistics of the lines and the approach to cadences, real against drawn, on the
choice half of the validation pieces: what a note reached by a step does next (on the beat and
off it: a passing note goes on the same way, a neighbour note turns back), and how the voices
come to a cadence (all four strike and hold a half note): the bass by a rising fourth or falling
fifth, a leading tone above before it. The sampler's moves are first order (a voice's move given
its last state), so neither shows in the statistics it is calibrated to. A lab tool; it reads no
test split.

    .venv/bin/python scripts/line_turns.py NAME=FOLDER[:plain|:key|:keyS] ... [--data DS] [--draws 3]
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from system_spec import choice_half

from segue.music.tokens import FIRST_PITCH, HOLD
from segue.sampler.states import sounding_pitches

TURNS = ("same", "back", "repeat", "leap same", "leap back")
"""What a note reached by a step (1-2 semitones) does at its next note."""
CADENCE_HOLD = 8
"""A cadence: every voice strikes at one step and holds for this many steps (a half note)."""


def turns(full: np.ndarray, sounding: np.ndarray, prime_steps: int, beat: int) -> dict[str, Counter[str]]:
    """Counts of :data:`TURNS` for the continuation's notes reached by a step, on and off the beat,
    in (W, V, S) tokens ``full`` (prime and continuation) with their sounding pitches."""
    out: dict[str, Counter[str]] = {"on the beat": Counter(), "off the beat": Counter()}
    for w in range(len(full)):
        for v in range(full.shape[1]):
            struck = np.nonzero(full[w, v] >= FIRST_PITCH)[0]
            pitch = sounding[w, v, struck]
            for k in range(1, len(struck) - 1):
                if struck[k] < prime_steps:
                    continue
                into, out_of = pitch[k] - pitch[k - 1], pitch[k + 1] - pitch[k]
                if not 1 <= abs(into) <= 2:
                    continue
                same = np.sign(out_of) == np.sign(into)
                if out_of == 0:
                    kind = "repeat"
                elif abs(out_of) <= 2:
                    kind = "same" if same else "back"
                else:
                    kind = "leap same" if same else "leap back"
                where = "on the beat" if (struck[k] - prime_steps) % beat == 0 else "off the beat"
                out[where][kind] += 1
    return out


def cadences(full: np.ndarray, sounding: np.ndarray, prime_steps: int) -> tuple[int, int, int]:
    """How many cadences the continuations of (W, V, S) tokens ``full`` hold, how many of them the
    bass reaches by a rising fourth or falling fifth (5 semitones up, mod 12) from its last other
    note, and how many have the leading tone (a semitone below the bass's pitch class) in a voice
    above two steps before."""
    found = fifths = leading = 0
    steps = full.shape[2]
    for w in range(len(full)):
        for s in range(prime_steps, steps - CADENCE_HOLD + 1):
            chord = sounding[w, :, s]
            struck = (full[w, :, s] >= FIRST_PITCH).all() and (chord >= 0).all()
            if not struck or not (full[w, :, s + 1 : s + CADENCE_HOLD] == HOLD).all():
                continue
            found += 1
            bass = sounding[w, -1]
            earlier = bass[max(s - 8, 0) : s][::-1]
            before = [p for p in earlier if p != bass[s] and p >= 0]
            fifths += bool(before) and (bass[s] - before[0]) % 12 == 5
            above = sounding[w, :-1, s - 2]
            leading += bool(((above[above >= 0] - bass[s]) % 12 == 11).any())
    return found, fifths, leading


def main() -> None:
    half = choice_half(__doc__.split("\n\n")[0])
    config, windows = half.config, half.windows
    pitches, prime_steps = config.vocab - 2, windows.primes.shape[2]

    def show(name: str, drawn: list[np.ndarray]) -> None:
        counts: dict[str, Counter[str]] = {"on the beat": Counter(), "off the beat": Counter()}
        found = fifths = leading = 0
        for continuation in drawn:
            full = np.concatenate([windows.primes, continuation], axis=2)
            sounding = sounding_pitches(full, pitches)
            for where, these in turns(full, sounding, prime_steps, config.steps_per_beat).items():
                counts[where].update(these)
            n, f, lead = cadences(full, sounding, prime_steps)
            found, fifths, leading = found + n, fifths + f, leading + lead
        parts = []
        for where, these in counts.items():
            total = max(sum(these.values()), 1)
            parts.append(f"{where}: " + " ".join(f"{kind} {these[kind] / total:.2f}" for kind in TURNS))
        cadence = (
            f"Cadences {found / len(drawn):.0f} a draw: bass up a fourth {fifths / max(found, 1):.2f}, "
            f"leading tone before {leading / max(found, 1):.2f}"
        )
        print(f"{name}: notes reached by a step, " + "; ".join(parts) + ". " + cadence)

    half.report(show)


if __name__ == "__main__":
    main()
