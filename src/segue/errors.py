"""Errors that segue reports to its users as one line, without a traceback."""

from __future__ import annotations

from pathlib import Path


class SegueError(Exception):
    """An error caused by input or arguments, shown to the user as one line."""


class MidiError(SegueError):
    """A MIDI file that cannot be used, with the file's name and the reason.

    Parameters
    ----------
    source:
        The file (or a label for in-memory bytes) that failed.
    reason:
        Why, in a few words, e.g. ``"not a MIDI file"``.
    """

    def __init__(self, source: str | Path, reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")
