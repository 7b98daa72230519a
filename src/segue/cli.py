"""The ``segue`` command line: parsing and dispatch only."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from segue.commands import data, demo, evaluate, generate, models, serve, train
from segue.errors import SegueError
from segue.version import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="segue", description="Continue music with a conditional GAN, bar after bar."
    )
    parser.add_argument("--version", action="version", version=f"segue {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (generate, models, train, evaluate, data, serve, demo):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 error, 2 usage, 130 interrupted, 141 when
    whatever reads the output stops reading, as in ``segue models | head -1``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted anywhere, also after the subcommand
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    args.debug = debug
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        # the reader left: stop quietly, as command-line tools do, and let nothing more be written
        # (Python flushes stdout again at exit)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except SegueError as error:
        if args.debug:
            raise
        print(f"segue: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("segue: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug:
            raise
        print(
            f"segue: internal error: {type(error).__name__}: {error} (run with --debug for details)",
            file=sys.stderr,
        )
        return 1
