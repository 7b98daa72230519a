"""Pictures (and later audio) of pieces. matplotlib is imported only when drawing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from segue.errors import SegueError
from segue.files import atomic_write
from segue.music.piece import Piece

TRACK_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]
NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def pitch_name(pitch: int) -> str:
    """Scientific pitch name: 60 -> ``"C4"``."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path, dpi: int) -> Path:  # type: ignore[no-untyped-def]
    """Write a figure as PNG atomically, then close it."""
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    finally:
        _pyplot().close(fig)


def draw_pianoroll(ax, piece: Piece, *, title: str | None = None, seam: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """Draw ``piece`` into a matplotlib axis, one colour per track.

    Bar lines are grey, the pickup bar is shaded, and ``seam`` (a step) draws a black
    line where a prime ends and a continuation begins, with the continuation shaded.
    """
    from matplotlib.patches import Patch

    notes = piece.notes
    bar = piece.bar_steps
    end_step = max(piece.n_bars, 1) * bar
    low = int(notes["pitch"].min()) - 2 if len(notes) else 58
    high = int(notes["pitch"].max()) + 2 if len(notes) else 70
    for track in range(len(piece.parts)):
        chunk = notes[notes["track"] == track]
        colour = TRACK_COLOURS[track % len(TRACK_COLOURS)]
        for pitch in np.unique(chunk["pitch"]):
            row = chunk[chunk["pitch"] == pitch]
            spans = list(zip(row["onset"].tolist(), row["duration"].tolist()))
            ax.broken_barh(
                spans, (int(pitch) - 0.4, 0.8), facecolors=colour, edgecolors="black", linewidth=0.3
            )
    for line in range(0, end_step + 1, bar):
        ax.axvline(line, color="0.75", linewidth=0.6, zorder=0)
    if piece.pickup:
        ax.axvspan(0, bar - piece.pickup, color="0.93", zorder=-1)
    if seam is not None:
        ax.axvspan(seam, end_step, color="#fff4d6", zorder=-1)
        ax.axvline(seam, color="black", linewidth=1.6)
    octave_cs = [p for p in range(low, high + 1) if p % 12 == 0]
    ax.set_yticks(octave_cs, [pitch_name(p) for p in octave_cs])
    ax.set_ylim(low, high)
    ax.set_xlim(0, end_step)
    bars = list(range(0, end_step, bar))
    ax.set_xticks(bars, [str(i - piece.first_bar + 1) for i in range(len(bars))])
    ax.set_xlabel(f"bar ({piece.meter}, {bar} steps per bar)")
    ax.set_ylabel("pitch")
    handles = [
        Patch(color=TRACK_COLOURS[i % len(TRACK_COLOURS)], label=p.name or f"track {i + 1}")
        for i, p in enumerate(piece.parts)
    ]
    ax.legend(handles=handles, loc="upper right", fontsize=8, ncol=len(handles))
    ax.set_title(title or piece.name)


def plot_pianoroll(
    piece: Piece,
    path: str | Path,
    *,
    title: str | None = None,
    seam: int | None = None,
    dpi: int = 120,
) -> Path:
    """Draw ``piece`` as a piano-roll PNG (see :func:`draw_pianoroll`)."""
    return plot_pianorolls([piece], path, titles=[title], seams=[seam], dpi=dpi)


def plot_pianorolls(
    pieces: list[Piece],
    path: str | Path,
    *,
    titles: Sequence[str | None] | None = None,
    seams: Sequence[int | None] | None = None,
    dpi: int = 120,
) -> Path:
    """Draw several pieces one above the other into one PNG."""
    plt = _pyplot()
    longest = max(max(p.n_bars, 1) for p in pieces)
    width = min(24.0, 3.0 + 0.9 * longest)
    fig, axes = plt.subplots(len(pieces), 1, figsize=(width, 4.5 * len(pieces)), squeeze=False)
    for i, (ax, piece) in enumerate(zip(axes[:, 0], pieces)):
        draw_pianoroll(ax, piece, title=titles[i] if titles else None, seam=seams[i] if seams else None)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_training_curves(metrics_csv: str | Path, path: str | Path, *, dpi: int = 110) -> Path:
    """Draw a run's ``metrics.csv``: the losses, D's scores, and the generated onset rate."""
    import csv

    plt = _pyplot()
    with open(metrics_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{metrics_csv}: no rows")
    columns = {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}
    step = columns["step"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    panels = [
        ("losses", [("loss_d", "D loss"), ("loss_g", "G loss")]),
        (
            "discriminator scores",
            [("d_real", "real pairs"), ("d_fake", "generated"), ("d_mismatch", "mismatched")],
        ),
        ("note onsets per voice and step", [("real_onsets", "real"), ("fake_onsets", "generated")]),
    ]
    for ax, (title, series) in zip(axes, panels):
        for key, label in series:
            if key in columns:
                ax.plot(step, _smooth(columns[key]), label=label, linewidth=1.2)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path, dpi)


def _smooth(values: np.ndarray, window: int = 10) -> np.ndarray:
    """A trailing moving average (the first points average what there is)."""
    sums = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.arange(1, len(values) + 1) - counts]) / counts


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
    from segue.music.midi import midi_seconds

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


def plot_histograms(
    stats: dict[str, dict[str, list[float]]], path: str | Path, *, reference: str, dpi: int = 110
) -> Path:
    """One panel per statistic: each system's histogram outlined over the reference's, filled."""
    plt = _pyplot()
    names = list(stats[reference])
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        values = [v for system in stats.values() for v in system[name]]
        bins = np.histogram_bin_edges(values, bins=min(20, max(5, len(set(values)))))
        ax.hist(stats[reference][name], bins=bins, density=True, color="0.8", label=reference)
        for system, table in stats.items():
            if system != reference:
                ax.hist(table[name], bins=bins, density=True, histtype="step", linewidth=1.4, label=system)
        ax.set_title(f"{name} per bar")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path, dpi)
