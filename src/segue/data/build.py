"""Build a dataset from the user's MIDI files and folders, in parallel, in bounded memory.

Each file is read by :func:`segue.music.read_midi` in a worker process; a file that
cannot be used is skipped with a one-line reason and never stops the build. Pieces
stream into a :class:`~segue.data.dataset.DatasetWriter`, which flushes a shard
every couple of million notes, so memory does not grow with the number of files.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segue.data.dataset import DEFAULT_SHARD_NOTES, DatasetWriter, piece_to_meta
from segue.errors import MidiError, SegueError
from segue.music.midi import read_midi

MIDI_SUFFIXES = {".mid", ".midi", ".kar", ".smf"}


@dataclass(frozen=True)
class ReadOptions:
    """How files are read into pieces (see :func:`segue.music.read_midi`)."""

    steps_per_beat: int = 4
    lowest: int = 0
    highest: int = 127
    keep_drums: bool = False


@dataclass
class BuildSummary:
    """What a build did: files read, pieces kept, skip reasons and rule counts."""

    files: int = 0
    files_used: int = 0
    pieces: int = 0
    notes: int = 0
    bars: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)


def find_midi_files(sources: Iterable[str | Path]) -> Iterator[Path]:
    """Yield MIDI files: named files as they are, folders searched recursively (sorted)."""
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
            yield from sorted(found)
        elif path.exists():
            yield path
        else:
            raise SegueError(f"{path}: no such file or folder")


_Result = tuple[str, list[tuple[np.ndarray, dict[str, Any]]], str | None, Counter[str]]


def _read_file(job: tuple[str, ReadOptions]) -> _Result:
    path, options = job
    try:
        result = read_midi(
            path,
            steps_per_beat=options.steps_per_beat,
            lowest=options.lowest,
            highest=options.highest,
            keep_drums=options.keep_drums,
        )
    except MidiError as error:
        return path, [], error.reason, Counter()
    except Exception as error:  # a reader bug must not stop a build of 170,000 files
        return path, [], f"unexpected error ({type(error).__name__})", Counter()
    pieces = [(p.notes, piece_to_meta(p, source=path)) for p in result.pieces]
    return path, pieces, None, result.counts


def reason_kind(reason: str) -> str:
    """A skip reason without its file-specific details, for the summary's counts."""
    return re.sub(r"\s*\(.*\)$", "", reason)


def build_dataset(
    sources: Iterable[str | Path],
    out: str | Path,
    *,
    options: ReadOptions = ReadOptions(),
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    shard_notes: int = DEFAULT_SHARD_NOTES,
    on_file: Callable[[int], None] | None = None,
) -> BuildSummary:
    """Read every MIDI file under ``sources`` into a new dataset at ``out``; ``on_file`` is
    called with the count of files done after each one (tests use it to kill a build midway)."""
    files = [str(p) for p in find_midi_files(sources)]
    if not files:
        raise SegueError("no MIDI files found in " + ", ".join(str(s) for s in sources))
    workers = max(1, min(workers or os.cpu_count() or 1, len(files)))
    summary = BuildSummary(files=len(files))
    with (
        DatasetWriter(out, overwrite=overwrite, shard_notes=shard_notes) as writer,
        writer.open_text("skipped.tsv") as skipped_log,
    ):
        for done, (path, pieces, reason, counts) in enumerate(_results(files, options, workers, progress), 1):
            if on_file is not None:
                on_file(done)
            if reason is not None:
                summary.skipped[reason_kind(reason)] += 1
                skipped_log.write(f"{path}\t{reason}\n")
                _say(f"skipped {path}: {reason}", progress)
                continue
            summary.files_used += 1
            summary.rules.update(counts)
            for notes, meta in pieces:
                writer.add(notes, meta)
        summary.pieces = writer.totals["pieces"]
        summary.notes = writer.totals["notes"]
        summary.bars = writer.totals["bars"]
        if not summary.pieces:
            raise SegueError(f"{out}: no usable piece in {len(files)} file(s); nothing written")
        skipped_log.close()
        writer.close(
            files=summary.files,
            files_used=summary.files_used,
            skipped=dict(summary.skipped),
            rules=dict(summary.rules),
            steps_per_beat=options.steps_per_beat,
            pitch_range=[options.lowest, options.highest],
            keep_drums=options.keep_drums,
        )
    return summary


def _results(files: list[str], options: ReadOptions, workers: int, progress: bool) -> Iterator[_Result]:
    from tqdm import tqdm

    jobs = ((path, options) for path in files)
    bar = tqdm(total=len(files), unit="file", disable=not progress, file=sys.stderr)
    try:
        if workers == 1:
            results: Iterable[_Result] = map(_read_file, jobs)
            for result in results:
                bar.update()
                yield result
            return
        method = "fork" if sys.platform == "linux" else None
        context = multiprocessing.get_context(method)
        chunk = max(1, min(64, len(files) // (workers * 8)))
        with context.Pool(workers, initializer=_ignore_interrupts) as pool:
            for result in pool.imap(_read_file, jobs, chunksize=chunk):
                bar.update()
                yield result
    finally:
        bar.close()


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the main process, which stops the build with one line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _say(line: str, progress: bool) -> None:
    if progress:
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)
