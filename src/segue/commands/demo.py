"""``segue demo``: the main job on the bundled default: continue a held-out chorale."""

from __future__ import annotations

import argparse
from pathlib import Path

PRIME_BARS = 4
BARS = 8


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``demo``."""
    demo = subparsers.add_parser(
        "demo", help="continue a bundled test chorale with the shipped model (MIDI, WAV, PNG)"
    )
    demo.add_argument("--out", type=Path, default=Path("demo"), help="output folder (default: demo)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Continue the first test chorale after 4 bars by 8 bars; print the paths written."""
    from segue.commands.generate import draw_continuation
    from segue.data.chorales import load_chorales, split_indices
    from segue.files import atomic_write_bytes
    from segue.music.midi import midi_bytes
    from segue.pipeline.continuation import continue_midi
    from segue.pipeline.model import load_model
    from segue.render import render_wav

    dataset = load_chorales()
    piece = dataset[split_indices(dataset, "test")[0]]
    prime = atomic_write_bytes(args.out / "prime.mid", midi_bytes(piece))
    (result,) = continue_midi(prime, BARS, prime_bars=PRIME_BARS, model=load_model(), seed=args.seed)
    midi = atomic_write_bytes(args.out / "continuation.mid", result.midi)
    png = draw_continuation(result, args.out / "continuation.png", f"{piece.name} (held-out test chorale)")
    wav = render_wav(result.midi, args.out / "continuation.wav")
    print(
        f"continued the test chorale {piece.name} after {PRIME_BARS} bars of Bach by {BARS} generated bars:"
    )
    for label, path in (("prime", prime), ("MIDI", midi), ("audio", wav), ("piano roll", png)):
        print(f"  {label:10} {path}")
    return 0
