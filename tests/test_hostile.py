"""Hostile MIDI files (tests/hostile.py) through `segue generate` and `segue data build`.

Each file gets either a one-line error that names it (exit 1, nothing written) or the
documented result (exit 0, a valid MIDI file that holds the continuation), in bounded
time and memory.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from segue.cli import main
from segue.music.midi import read_midi
from tests.hostile import BIG, CORPUS, HERE, write_corpus

# name -> the start of the error after "<name>: ", or None where the file is continued
EXPECTED: dict[str, str | None] = {
    "not_midi.mid": "not a MIDI file",
    "truncated_track.mid": "corrupt MIDI file",
    "chunk_longer_than_file.mid": "corrupt MIDI file",
    "running_status_at_start.mid": "corrupt MIDI file",
    "note_on_without_note_off.mid": "no notes",
    "note_of_ten_hours.mid": None,
    "note_of_268_million_beats.mid": "lasts 268,435,455 beats, more than the 262,144-beat limit",
    "tempo_1_us_per_beat.mid": None,
    "tempo_60000000_us_per_beat.mid": None,
    "resolution_1.mid": None,
    "resolution_32767.mid": None,
    "hundred_thousand_notes_in_one_bar.mid": None,
    "256_tracks.mid": None,
    "smf_type_2.mid": None,
    "zero_bytes.mid": "empty file",
    "fifty_megabytes.mid": None,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("hostile"))[0].parent


def test_the_committed_corpus_is_what_the_generator_writes(corpus):
    committed = sorted(p.name for p in HERE.glob("*.mid"))
    assert committed == sorted(set(CORPUS) - BIG)
    for name in committed:
        assert (HERE / name).read_bytes() == (corpus / name).read_bytes(), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_generate_answers_every_hostile_file(name, corpus, tiny_model, tmp_path, capsys):
    out = tmp_path / "out.mid"
    code = main(
        ["generate", str(corpus / name), "--out", str(out), "--model", str(tiny_model), "--bars", "2"]
    )
    err = capsys.readouterr().err.strip()
    expected = EXPECTED[name]
    if expected is None:
        assert code == 0, err
        (piece, *_) = read_midi(out).pieces
        assert piece.n_bars >= 2
    else:
        assert code == 1
        assert err == err.splitlines()[0]  # one line
        assert err.startswith(f"segue: error: {corpus / name}: {expected}")
        assert "Traceback" not in err
        assert not out.exists() and not list(tmp_path.iterdir())  # nothing half-written


def test_data_build_skips_the_bad_files_and_keeps_the_rest(corpus, tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["data", "build", str(corpus), "--out", str(out), "--workers", "2"]) == 0
    printed = capsys.readouterr()
    for name, expected in EXPECTED.items():
        if expected is not None:
            assert f"skipped {corpus / name}: {expected}" in printed.err + printed.out
    good = sum(expected is None for expected in EXPECTED.values())
    assert f"from {good} of {len(EXPECTED)} files" in printed.out


def test_the_biggest_files_stay_within_a_memory_cap(corpus, tiny_model, tmp_path):
    """The 50 MB file and the ten-hour note under a 3 GB address-space limit, in a child process."""
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))\n"
        "from segue.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    for name in ("fifty_megabytes.mid", "note_of_ten_hours.mid", "note_of_268_million_beats.mid"):
        out = tmp_path / f"{name}.out.mid"
        command = [sys.executable, "-c", script, "generate", str(corpus / name), "--out", str(out)]
        done = subprocess.run(
            [*command, "--model", str(tiny_model), "--bars", "2"], capture_output=True, text=True, timeout=300
        )
        if EXPECTED[name] is None:
            assert done.returncode == 0, done.stderr
            assert out.stat().st_size > 0
        else:  # refused before any grid is allocated, not by running out of memory
            assert done.returncode == 1 and "MemoryError" not in done.stderr, done.stderr
            assert EXPECTED[name] in done.stderr
