"""``segue models``: the models that ship with segue, and how `segue generate` picks one."""

from __future__ import annotations

import argparse
import textwrap


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``models``."""
    p = subparsers.add_parser("models", help="list the shipped models and the rule that picks one")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per shipped model, then the rule."""
    from segue.pipeline.catalog import DEFAULT_STYLE, shipped_models

    entries = shipped_models()
    rows = [("name", "style", "meter", "voices", "what it learned")]
    rows += [(e.name, e.style, e.meter, str(e.voices), e.description) for e in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
    rule = (
        "`segue generate` picks the model of the file's meter in the style asked for (--style); "
        "else one whose texture fits the file (one voice for a single melodic line, several voices "
        f"for anything else), of the style {DEFAULT_STYLE} first, in the file's meter or in the same "
        "beats at another note value (a melody in 4/2 by the 4/4 melody model); else any model of "
        "the meter. "
        "--model NAME or --model FOLDER overrides it. A meter no model knows takes the nearest: the "
        "same beats at another note value (3/8 as 3/4, 4/1 as 4/4), else the model's bars one after "
        "the other "
        "(12/8 by 6/8 bars, 5/4 by 4/4 bars), the file keeping its meter."
    )
    print("\n" + textwrap.fill(rule, width=100))
    return 0
