from pathlib import Path

import numpy as np
import pytest

from segue.data.build import build_dataset, find_midi_files
from segue.data.dataset import Dataset
from segue.errors import SegueError
from tests.smf import TrackBuilder, smf


def song(pitch: int, bars: int = 2) -> bytes:
    track = TrackBuilder().meter(0, 4, 4)
    for i in range(4 * bars):
        track.note(i * 480, 480, pitch + i % 5)
    return smf([track])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "midi"
    (root / "sub").mkdir(parents=True)
    for i in range(6):
        (root / f"song{i}.mid").write_bytes(song(60 + i))
    (root / "sub" / "deep.MIDI").write_bytes(song(40, bars=3))
    (root / "sub" / "notes.txt").write_text("not midi and not looked at")
    (root / "broken.mid").write_bytes(b"MThd\x00\x00")
    (root / "empty.mid").write_bytes(b"")
    (root / "short.mid").write_bytes(smf([TrackBuilder().note(0, 480, 60)]))
    return root


def test_find_midi_files_is_recursive_and_sorted(folder: Path):
    names = [p.name for p in find_midi_files([folder])]
    assert names == sorted(names, key=lambda n: str(next(folder.rglob(n))))
    assert "deep.MIDI" in names and "notes.txt" not in names and len(names) == 10


@pytest.mark.parametrize("workers", [1, 2])
def test_build_skips_bad_files_with_reasons_and_keeps_the_rest(folder: Path, tmp_path: Path, workers: int):
    out = tmp_path / f"ds{workers}"
    summary = build_dataset([folder], out, workers=workers, progress=False)
    assert summary.files == 10 and summary.files_used == 7 and summary.pieces == 7
    assert summary.skipped == {"corrupt MIDI file": 1, "empty file": 1, "no complete bar of notes": 1}
    dataset = Dataset(out)
    assert len(dataset) == 7 and dataset.info["skipped"] == dict(summary.skipped)
    assert sum(int(m["bars"]) for m in dataset.metas) == 6 * 2 + 3
    skipped = (out / "skipped.tsv").read_text().splitlines()
    assert len(skipped) == 3 and all("\t" in line for line in skipped)


def test_parallel_build_equals_serial_build(folder: Path, tmp_path: Path):
    build_dataset([folder], tmp_path / "a", workers=1, progress=False)
    build_dataset([folder], tmp_path / "b", workers=2, progress=False, shard_notes=16)
    a, b = Dataset(tmp_path / "a"), Dataset(tmp_path / "b")
    assert len(b.info["shards"]) > 1
    assert [m["source"] for m in a.metas] == [m["source"] for m in b.metas]
    for i in range(len(a)):
        assert np.array_equal(a.notes(i), b.notes(i))


def test_nothing_usable_writes_nothing(tmp_path: Path):
    (tmp_path / "bad.mid").write_bytes(b"nope")
    with pytest.raises(SegueError, match="no usable piece"):
        build_dataset([tmp_path / "bad.mid"], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.mid"]
    with pytest.raises(SegueError, match="no such file"):
        build_dataset([tmp_path / "missing"], tmp_path / "out", progress=False)


def _build(source: Path, out: Path, *extra: str, fault_after: int = 0):
    import subprocess
    import sys

    command = [sys.executable, "-m", "tests.faults", "build", str(fault_after)]
    command += ["data", "build", str(source), "--out", str(out), *extra]
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=root)


def test_a_build_killed_with_sigkill_leaves_no_dataset_and_a_rerun_completes(tmp_path: Path):
    source = tmp_path / "midi"
    source.mkdir()
    for i in range(40):
        (source / f"song{i:02d}.mid").write_bytes(song(48 + i % 24, bars=2 + i % 3))
    out = tmp_path / "ds"
    killed = _build(source, out, "--workers", "1", fault_after=20)
    assert killed.returncode == -9
    assert not out.exists()  # no dataset at all rather than half of one
    assert [p.name for p in tmp_path.glob(".ds.*")], "the unfinished build is where the kill left it"
    again = _build(source, out, "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert len(Dataset(out)) == 40
    assert not list(tmp_path.glob(".ds.*"))  # the dead build's leftovers were cleared
    # killing a rebuild over an existing dataset leaves that dataset whole
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    killed = _build(source, out, "--workers", "2", "--overwrite", fault_after=30)
    assert killed.returncode == -9
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert len(Dataset(out)) == 40
