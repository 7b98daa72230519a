"""The dataset format: sharded, memory-mapped note arrays with per-piece metadata.

A dataset is a folder::

    dataset.json             what is in it (format, version, counts, shards)
    shard-00000.notes.npy    every note of the shard, NOTE_DTYPE, memory-mapped when read
    shard-00000.index.npy    (pieces, 2) int64: first note and note count of each piece
    shard-00000.meta.jsonl   one JSON object per piece (name, meter, parts, tempos ...)

Notes are stored rather than rolls: they are small, and rolls are drawn per batch.
A :class:`DatasetWriter` builds the folder under a temporary name and renames it
into place when it is complete, so a failed or killed build leaves no half dataset.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, overload

import numpy as np

from segue.errors import SegueError
from segue.files import make_ordinary
from segue.music.piece import NOTE_DTYPE, KeySignature, Meter, Part, Piece
from segue.version import __version__

FORMAT = "segue-dataset"
VERSION = 1
DEFAULT_SHARD_NOTES = 1 << 20  # about 12 MB of notes per shard
OWNER = ".owner"  # in an unfinished build: the pid of the process writing it


META_EXTRAS = ("style", "work")
"""The entries of ``Piece.extra`` a dataset keeps: the style (corpus) a piece comes from and the
work (a mass) it is a section of."""


def piece_to_meta(piece: Piece, source: str = "") -> dict[str, Any]:
    """The JSON-ready metadata of a piece (everything but its notes)."""
    return {
        "name": piece.name,
        "source": source,
        "meter": str(piece.meter),
        "steps_per_beat": piece.steps_per_beat,
        "pickup": piece.pickup,
        "bars": piece.complete_bars,
        "tempos": [list(t) for t in piece.tempos],
        "keys": [[step, key.fifths, key.minor] for step, key in piece.keys],
        "parts": [[p.name, p.program, p.is_drum] for p in piece.parts],
        "fermatas": list(piece.fermatas),
        **{key: str(piece.extra[key]) for key in META_EXTRAS if piece.extra.get(key)},
    }


def piece_from_meta(meta: dict[str, Any], notes: np.ndarray) -> Piece:
    """Rebuild a piece from :func:`piece_to_meta`'s output and its notes."""
    numerator, denominator = (int(x) for x in meta["meter"].split("/"))
    return Piece(
        notes=np.array(notes, dtype=NOTE_DTYPE),
        parts=tuple(Part(str(n), int(p), bool(d)) for n, p, d in meta["parts"]),
        meter=Meter(numerator, denominator),
        steps_per_beat=int(meta["steps_per_beat"]),
        pickup=int(meta["pickup"]),
        tempos=tuple((int(s), int(t)) for s, t in meta["tempos"]),
        keys=tuple((int(s), KeySignature(int(f), bool(m))) for s, f, m in meta["keys"]),
        fermatas=tuple(int(s) for s in meta["fermatas"]),
        name=str(meta["name"]),
        extra={key: str(meta[key]) for key in META_EXTRAS if meta.get(key)},
    )


class DatasetWriter:
    """Write pieces into a new dataset folder, shard by shard, in bounded memory.

    Use as a context manager and call :meth:`close`: the folder appears at ``path`` only
    then; an error in the ``with`` block, or leaving it without ``close``, removes
    everything written. An existing dataset (or empty folder) at ``path`` is replaced
    only if ``overwrite`` is true; anything else there is never touched.
    """

    def __init__(
        self, path: str | Path, *, overwrite: bool = False, shard_notes: int = DEFAULT_SHARD_NOTES
    ) -> None:
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise SegueError(f"{self.path}: already exists (use --overwrite to replace it)")
        if self.path.exists() and not _replaceable(self.path):
            raise SegueError(f"{self.path}: exists and is not a segue dataset; refusing to replace it")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.shard_notes = shard_notes
        _remove_stale(self.path)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=self.path.parent))
        make_ordinary(self._tmp)  # mkdtemp makes it private; a dataset is an ordinary folder
        (self._tmp / OWNER).write_text(str(os.getpid()))
        self._shards: list[dict[str, int]] = []
        self._notes: list[np.ndarray] = []
        self._meta: list[dict[str, Any]] = []
        self._pending = 0
        self.totals = {"pieces": 0, "notes": 0, "bars": 0}

    def add(self, notes: np.ndarray, meta: dict[str, Any]) -> None:
        """Add one piece, given its notes and :func:`piece_to_meta` metadata."""
        self._notes.append(np.asarray(notes, dtype=NOTE_DTYPE))
        self._meta.append(meta)
        self._pending += len(notes)
        self.totals["pieces"] += 1
        self.totals["notes"] += len(notes)
        self.totals["bars"] += int(meta["bars"])
        if self._pending >= self.shard_notes:
            self._flush()

    def add_piece(self, piece: Piece, source: str = "") -> None:
        """Add a :class:`Piece`."""
        self.add(piece.notes, piece_to_meta(piece, source))

    def open_text(self, name: str) -> TextIO:
        """Open a text file in the dataset folder for writing (e.g. a list of skipped files)."""
        return open(self._tmp / name, "w", encoding="utf-8")

    def _flush(self) -> None:
        if not self._meta:
            return
        stem = self._tmp / f"shard-{len(self._shards):05d}"
        counts = np.array([len(n) for n in self._notes], dtype=np.int64)
        index = np.stack([np.cumsum(counts) - counts, counts], axis=1)  # (pieces, 2)
        np.save(f"{stem}.notes.npy", np.concatenate(self._notes))
        np.save(f"{stem}.index.npy", index)
        with open(f"{stem}.meta.jsonl", "w", encoding="utf-8") as handle:
            for meta in self._meta:
                handle.write(json.dumps(meta, separators=(",", ":")) + "\n")
        self._shards.append({"pieces": len(self._meta), "notes": int(counts.sum())})
        self._notes, self._meta, self._pending = [], [], 0

    def close(self, **info: Any) -> Path:
        """Finish the dataset, with ``info`` (e.g. skip counts) kept in dataset.json."""
        self._flush()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "created_by": f"segue {__version__}",
            **self.totals,
            "shards": self._shards,
            **info,
        }
        (self._tmp / "dataset.json").write_text(json.dumps(header, indent=2) + "\n")
        (self._tmp / OWNER).unlink()
        old = None
        if self.path.exists():
            old = self.path.with_name(f".{self.path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            self.path.rename(old)
        self._tmp.rename(self.path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.path

    def abort(self) -> None:
        """Remove everything written so far."""
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is not None or self._tmp.exists():
            self.abort()


def _remove_stale(path: Path) -> None:
    """Remove unfinished builds of ``path`` left by processes that no longer run (killed ones)."""
    for folder in path.parent.glob(f".{path.name}.*"):
        try:
            pid = int((folder / OWNER).read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # alive, someone else's
            pass


def _replaceable(path: Path) -> bool:
    """True for an empty folder or a segue dataset folder."""
    if not path.is_dir():
        return False
    if not any(path.iterdir()):
        return True
    try:
        return json.loads((path / "dataset.json").read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


@dataclass(frozen=True)
class _Shard:
    notes: np.ndarray  # memory-mapped NOTE_DTYPE
    index: np.ndarray  # (pieces, 2)
    meta_path: Path


class Dataset:
    """A dataset folder opened for reading; pieces load lazily from memory-mapped shards."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        header_path = self.path / "dataset.json"
        if not header_path.is_file():
            raise SegueError(f"{self.path}: not a segue dataset (no dataset.json)")
        try:
            self.info: dict[str, Any] = json.loads(header_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise SegueError(f"{header_path}: unreadable ({error})") from None
        if not isinstance(self.info, dict) or (self.info.get("format"), self.info.get("version")) != (
            FORMAT,
            VERSION,
        ):
            raise SegueError(f"{self.path}: not a segue dataset of version {VERSION}")
        self._shards: list[_Shard] = []
        for i, _ in enumerate(self.info["shards"]):
            stem = self.path / f"shard-{i:05d}"
            self._shards.append(
                _Shard(
                    np.load(f"{stem}.notes.npy", mmap_mode="r"),
                    np.load(f"{stem}.index.npy"),
                    Path(f"{stem}.meta.jsonl"),
                )
            )
        sizes = [len(s.index) for s in self._shards]
        self._starts = np.cumsum([0, *sizes])
        self._meta_cache: list[dict[str, Any]] | None = None

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _locate(self, i: int) -> tuple[_Shard, int]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"piece {i} of a dataset of {len(self)}")
        i %= len(self)
        shard = int(np.searchsorted(self._starts, i, side="right") - 1)
        return self._shards[shard], i - int(self._starts[shard])

    def notes(self, i: int) -> np.ndarray:
        """The notes of piece ``i`` (a read-only view into the memory map)."""
        shard, local = self._locate(i)
        start, count = shard.index[local]
        return shard.notes[start : start + count]

    @property
    def metas(self) -> list[dict[str, Any]]:
        """Metadata of every piece, in order (read once, then cached)."""
        if self._meta_cache is None:
            metas: list[dict[str, Any]] = []
            for shard in self._shards:
                with open(shard.meta_path, encoding="utf-8") as handle:
                    metas.extend(json.loads(line) for line in handle)
            self._meta_cache = metas
        return self._meta_cache

    @overload
    def __getitem__(self, i: int) -> Piece: ...

    @overload
    def __getitem__(self, i: slice) -> list[Piece]: ...

    def __getitem__(self, i: int | slice) -> Piece | list[Piece]:
        """Piece ``i``, or a list of pieces for a slice (``dataset[:10]``)."""
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return piece_from_meta(self.metas[i], self.notes(i))

    def __iter__(self) -> Iterator[Piece]:
        for i in range(len(self)):
            yield self[i]

    def index_of(self, name: str) -> int:
        """The index of the piece called ``name``."""
        for i, meta in enumerate(self.metas):
            if meta["name"] == name:
                return i
        raise KeyError(name)

    def all_notes(self) -> Iterator[np.ndarray]:
        """Each shard's note array in turn (for statistics over the whole set)."""
        for shard in self._shards:
            yield shard.notes
