"""`segue generate` loads at start only what it needs: no training code, no plotting library
unless --png, no audio renderer unless --wav, no web server, no compiler of the sampler's
kernel (a short continuation's whole draw costs less than loading it)
(PyTorch itself imports tqdm, so it is not counted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segue.data.chorales import load_chorales, split_indices
from segue.music.midi import midi_bytes

HEAVY = ("matplotlib", "midirenderer", "fastapi", "uvicorn", "tensorboard", "segue.training", "numba")

PROGRAM = """
import json, sys
from segue.cli import main
code = main(sys.argv[1:])
heavy = {heavy!r}
loaded = sorted(h for h in heavy if any(m == h or m.startswith(h + ".") for m in sys.modules))
print(json.dumps({{"code": code, "loaded": loaded}}))
"""


@pytest.fixture(scope="module")
def prime(tmp_path_factory) -> Path:
    chorales = load_chorales()
    path = tmp_path_factory.mktemp("startup") / "prime.mid"
    path.write_bytes(midi_bytes(chorales[split_indices(chorales, "test")[0]]))
    return path


def loaded_by(*arguments: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(heavy=HEAVY), *arguments],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["code"] == 0
    return result["loaded"]


def test_generate_loads_neither_training_nor_plotting_nor_audio(prime, tmp_path):
    assert loaded_by("generate", str(prime), "--out", str(tmp_path / "a.mid"), "--bars", "2") == []


def test_generate_loads_the_plotting_library_for_png_and_the_renderer_for_wav(prime, tmp_path):
    png = loaded_by(
        "generate", str(prime), "--out", str(tmp_path / "b.mid"), "--png", str(tmp_path / "b.png")
    )
    assert "matplotlib" in png and "midirenderer" not in png
    wav = loaded_by(
        "generate", str(prime), "--out", str(tmp_path / "c.mid"), "--wav", str(tmp_path / "c.wav")
    )
    assert "midirenderer" in wav and "matplotlib" not in wav


def test_a_reader_that_stops_reading_ends_the_command_quietly():
    """`segue models | head -1`: the closed pipe is no internal error and no traceback."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "segue", "models"], stdout=write, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write)
    assert done.returncode == 141
    assert done.stderr == ""
