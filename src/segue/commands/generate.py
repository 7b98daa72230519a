"""``segue generate``: continue a MIDI file, bar after bar; see it and hear it."""

from __future__ import annotations

import argparse
from pathlib import Path

from segue.errors import SegueError
from segue.sampler.config import KEY_STRENGTH


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``generate``."""
    p = subparsers.add_parser("generate", help="continue a MIDI file with the GAN")
    p.add_argument(
        "prime", type=Path, metavar="PRIME.mid", help="the MIDI file whose opening bars are continued"
    )
    p.add_argument("--out", type=Path, required=True, metavar="OUT.mid", help="where to write the result")
    p.add_argument("--bars", type=int, default=8, help="bars to generate (default 8)")
    p.add_argument(
        "--prime-bars",
        type=int,
        default=None,
        metavar="K",
        help="complete bars of the prime to keep (default: all; a pickup bar is not counted)",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME|PATH",
        help="a shipped model (see `segue models`) or a model folder (default: picked by the file's meter)",
    )
    p.add_argument("--style", default=None, help="pick the shipped model of this style (see `segue models`)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same bytes")
    p.add_argument(
        "--samples",
        type=int,
        default=1,
        metavar="M",
        help="write M different continuations OUT-1.mid ... OUT-M.mid (default 1)",
    )
    p.add_argument(
        "--truncation",
        type=float,
        default=None,
        metavar="T",
        help="truncate the noise to |z| <= T: less diversity, more fidelity",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        metavar="T",
        help="sample notes at temperature T: below 1 safer, above 1 wilder (default 1)",
    )
    p.add_argument(
        "--key-strength",
        type=float,
        default=None,
        metavar="S",
        help=f"how strongly to keep to the prime's key (default {KEY_STRENGTH}; 0: not at all)",
    )
    p.add_argument(
        "--plain",
        action="store_true",
        help="draw every note on its own, without the model's voice-leading prior",
    )
    p.add_argument("--wav", type=Path, default=None, metavar="OUT.wav", help="also render audio")
    p.add_argument("--png", type=Path, default=None, metavar="OUT.png", help="also draw the piano roll")
    p.add_argument("--soundfont", type=Path, default=None, help="a General MIDI .sf2 for --wav")
    p.add_argument("--fluidsynth", action="store_true", help="render --wav with FluidSynth (if installed)")
    p.set_defaults(func=run)


def numbered(path: Path, index: int, count: int) -> Path:
    """``out.mid`` for one sample, ``out-1.mid`` ... for several."""
    return path if count == 1 else path.with_name(f"{path.stem}-{index}{path.suffix}")


def run(args: argparse.Namespace) -> int:
    """Generate, then write the MIDI (and WAV and PNG) files and print their paths."""
    from segue.pipeline.arguments import check_arguments, check_key_strength
    from segue.pipeline.continuation import continue_midi

    check_arguments(args.bars, args.samples, args.truncation, args.prime_bars, args.temperature)
    if args.key_strength is not None:
        check_key_strength(args.key_strength)
    for flag, path, suffix in (
        ("--out", args.out, ".mid"),
        ("--wav", args.wav, ".wav"),
        ("--png", args.png, ".png"),
    ):
        if path is not None and path.suffix.lower() not in (suffix, ".midi" if suffix == ".mid" else suffix):
            raise SegueError(f"{flag} {path}: expected a {suffix} file")
    if not args.prime.is_file():
        raise SegueError(f"{args.prime}: no such file")
    from segue.pipeline.catalog import Shelf, model_path
    from segue.pipeline.model import load_model

    if args.model is not None and args.style is not None:
        raise SegueError("give --model or --style, not both")
    model = Shelf(args.style, plain=args.plain) if args.model is None else load_model(model_path(args.model))
    if args.plain and not isinstance(model, Shelf):
        from segue.sampler import PlainSampler

        model.sampler = PlainSampler()
    results = continue_midi(
        args.prime,
        args.bars,
        prime_bars=args.prime_bars,
        model=model,
        seed=args.seed,
        samples=args.samples,
        truncation=args.truncation,
        temperature=args.temperature,
        **({} if args.key_strength is None else {"key_strength": args.key_strength}),
    )
    written = _write(results, args)
    first = results[0]
    if first.chosen:
        print(f"model: {first.chosen}")
    if first.read_as:
        print(
            f"sampler: the prime's part music read as {first.read_as} (drawn with that style's calibration)"
        )
    print(
        f"continued {args.prime} after {first.prime_bars} bars by {first.bars} bars "
        f"(voices: {first.voicing}; transposed {first.shift:+d} semitones for the model and back)"
    )
    for path in written:
        print(f"  {path}")
    return 0


def _write(results: list, args: argparse.Namespace) -> list[Path]:  # type: ignore[type-arg]
    from segue.files import atomic_write_bytes

    written = []
    for i, result in enumerate(results, start=1):
        written.append(atomic_write_bytes(numbered(args.out, i, len(results)), result.midi))
        if args.png is not None:
            written.append(draw_continuation(result, numbered(args.png, i, len(results)), args.prime.name))
        if args.wav is not None:
            from segue.render import render_wav

            engine = "fluidsynth" if args.fluidsynth else "midirenderer"
            written.append(
                render_wav(
                    result.midi, numbered(args.wav, i, len(results)), soundfont=args.soundfont, engine=engine
                )
            )
    return written


def draw_continuation(result, path: Path, name: str) -> Path:  # type: ignore[no-untyped-def]
    """A piano roll of a continuation's MIDI: every track, the seam marked."""
    from segue.render import plot_pianoroll

    title = f"{name}: {result.prime_bars} bars of prime, then {result.bars} generated bars"
    return plot_pianoroll(result.piece, path, title=title, seam=result.seam_step)
