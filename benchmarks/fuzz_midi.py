"""Fuzz the MIDI reader and the representation for a bounded time; count inputs and crashes.

Each input is a mutant of a small valid file (flipped, inserted or cut bytes, a lying
chunk length, odd header fields) or a well-formed file of random events
(``tests/fuzz.py``). It is read and, if read, turned into voices, tokens and a piano
roll and written back to MIDI. A clean one-line ``MidiError`` is a refusal; anything
else is a crash, saved under ``--crashes`` for replay.

    .venv/bin/python benchmarks/fuzz_midi.py --seconds 600
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fuzz import exercise, mutants, seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"))
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    seed_files = seeds()
    outcomes: Counter[str] = Counter()
    stop = time.monotonic() + args.seconds
    started = time.perf_counter()
    while time.monotonic() < stop:
        data = mutants(rng, seed_files)
        try:
            outcomes[exercise(data)] += 1
        except Exception:
            outcomes["crash"] += 1
            args.crashes.mkdir(exist_ok=True)
            path = args.crashes / f"crash-{outcomes['crash']:04d}.mid"
            path.write_bytes(data)
            print(f"crash saved to {path}:\n{traceback.format_exc(limit=3)}", file=sys.stderr)
    wall = time.perf_counter() - started
    total = sum(outcomes.values())
    print(f"{total:,} inputs in {wall:.0f} s ({total / wall:,.0f}/s), seed {args.seed}")
    print(
        f"read {outcomes['read']:,}, refused cleanly {outcomes['refused']:,}, crashes {outcomes['crash']:,}"
    )


if __name__ == "__main__":
    main()
