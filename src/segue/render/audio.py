"""Audio of MIDI: the default SoundFont, rendering to WAV (midirenderer or fluidsynth), WAV stats."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segue.errors import SegueError
from segue.files import atomic_write

MAX_AUDIO_SECONDS = 3600.0
"""Refuse to render MIDI that plays longer than this."""


def default_soundfont() -> Path:
    """The General MIDI SoundFont that ships with pretty_midi (TimGM6mb.sf2)."""
    from importlib import resources
    from importlib.util import find_spec

    if find_spec("pretty_midi") is None:
        raise SegueError("no SoundFont: install pretty_midi (it ships one) or pass --soundfont FILE.sf2")
    return Path(str(resources.files("pretty_midi") / "TimGM6mb.sf2"))


def render_wav(
    midi: bytes,
    path: str | Path,
    *,
    soundfont: str | Path | None = None,
    engine: str = "midirenderer",
    max_seconds: float = MAX_AUDIO_SECONDS,
) -> Path:
    """Render MIDI bytes to a WAV file with a General MIDI SoundFont, in bounded time.

    ``engine`` is ``midirenderer`` (from PyPI, in process) or ``fluidsynth`` (a program the
    user installed, run with a time limit). MIDI that plays longer than ``max_seconds`` is
    refused before rendering, and a render that runs past its time limit is stopped, so a
    stuck note can never write audio forever.
    """
    if engine == "fluidsynth":
        seconds, font = _checked(midi, soundfont, max_seconds, str(path))
        return atomic_write(path, lambda tmp: _fluidsynth(midi, font, tmp, timeout=30 + seconds))
    if engine != "midirenderer":
        raise SegueError(f"unknown audio engine {engine!r}; choose midirenderer or fluidsynth")
    wav = wav_bytes(midi, soundfont=soundfont, max_seconds=max_seconds, label=str(path))
    return atomic_write(path, lambda tmp: tmp.write_bytes(wav))


def wav_bytes(
    midi: bytes,
    *,
    soundfont: str | Path | None = None,
    max_seconds: float = MAX_AUDIO_SECONDS,
    label: str = "<midi>",
) -> bytes:
    """MIDI bytes rendered in memory to WAV bytes (midirenderer); see :func:`render_wav`."""
    _, font = _checked(midi, soundfont, max_seconds, label)
    import midirenderer

    return bytes(midirenderer.render_wave_from(font.read_bytes(), midi))


def _checked(midi: bytes, soundfont: str | Path | None, max_seconds: float, label: str) -> tuple[float, Path]:
    """The MIDI's length, refused past ``max_seconds``, and the SoundFont to use."""
    from segue.music.timing import midi_seconds

    seconds = midi_seconds(midi)
    if seconds > max_seconds:
        raise SegueError(
            f"{label}: the MIDI plays {seconds:.0f} s, longer than the {max_seconds:.0f} s limit"
        )
    font = Path(soundfont) if soundfont is not None else default_soundfont()
    if not font.is_file():
        raise SegueError(f"{font}: no such SoundFont")
    return seconds, font


def _fluidsynth(midi: bytes, font: Path, out: Path, timeout: float) -> None:
    import shutil
    import subprocess
    import tempfile

    program = shutil.which("fluidsynth")
    if program is None:
        raise SegueError(
            "fluidsynth is not installed (apt-get install fluidsynth), or leave out --fluidsynth"
        )
    with tempfile.NamedTemporaryFile(suffix=".mid") as handle:
        handle.write(midi)
        handle.flush()
        command = [program, "-ni", "-q", "-r", "44100", "-F", str(out), "-T", "wav", str(font), handle.name]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SegueError(f"fluidsynth took longer than {timeout:.0f} s; stopped") from None
        except subprocess.CalledProcessError as error:
            raise SegueError(
                f"fluidsynth failed: {error.stderr.decode(errors='replace').strip()[:200]}"
            ) from None


def wav_stats(path: str | Path) -> dict[str, float]:
    """Seconds, peak (0..1) and share of near-silent samples of a 16-bit WAV file."""
    import wave

    with wave.open(str(path), "rb") as handle:
        frames = handle.readframes(handle.getnframes())
        rate, channels, width = handle.getframerate(), handle.getnchannels(), handle.getsampwidth()
    if width != 2:
        raise ValueError("expected 16-bit samples")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768.0
    return {
        "seconds": len(samples) / channels / rate,
        "peak": float(np.abs(samples).max()) if len(samples) else 0.0,
        "silent_share": float((np.abs(samples) < 1e-3).mean()) if len(samples) else 1.0,
    }
