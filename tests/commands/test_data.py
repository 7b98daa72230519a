import subprocess
import sys
from pathlib import Path

from segue.cli import main
from tests.smf import TrackBuilder, smf


def write_songs(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        track = TrackBuilder().meter(0, 3 if i % 2 else 4, 4)
        for j in range(12):
            track.note(j * 480, 480, 60 + (i + j) % 12)
        (folder / f"s{i}.mid").write_bytes(smf([track]))


def test_data_build_and_info_through_the_cli(tmp_path: Path, capsys):
    write_songs(tmp_path / "in", 4)
    (tmp_path / "in" / "junk.mid").write_bytes(b"junk")
    code = main(["data", "build", str(tmp_path / "in"), "--out", str(tmp_path / "ds"), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "4 pieces" in out and "from 4 of 5 files" in out and "1 not a MIDI file" in out
    assert f"skipped {tmp_path / 'in' / 'junk.mid'}: not a MIDI file" in err
    assert main(["data", "info", str(tmp_path / "ds")]) == 0
    info, _ = capsys.readouterr()
    assert "pieces    4" in info and "4/4 (2)" in info and "3/4 (2)" in info
    assert "C4" in info and "#" in info  # the pitch histogram


def test_errors_are_one_line_without_traceback(tmp_path: Path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "-m", "segue", "data", "build", str(bad), "--out", str(tmp_path / "ds"), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("segue: error:") and "Traceback" not in result.stderr
    assert not (tmp_path / "ds").exists()


def test_absurd_arguments_are_refused(tmp_path: Path, capsys):
    write_songs(tmp_path / "in", 1)
    assert main(["data", "build", str(tmp_path / "in"), "--out", str(tmp_path / "ds"), "--workers", "0"]) == 1
    assert "--workers" in capsys.readouterr().err
    assert main(["data", "info", str(tmp_path / "nowhere")]) == 1
    assert "not a segue dataset" in capsys.readouterr().err
    assert not (tmp_path / "ds").exists()


def test_existing_output_needs_overwrite(tmp_path: Path, capsys):
    write_songs(tmp_path / "in", 2)
    args = ["data", "build", str(tmp_path / "in"), "--out", str(tmp_path / "ds"), "--quiet"]
    assert main(args) == 0
    assert main(args) == 1 and "already exists" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
