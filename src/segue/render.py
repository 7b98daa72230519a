"""Pictures (and later audio) of pieces. matplotlib is imported only when drawing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segue.files import atomic_write
from segue.music.piece import Piece

TRACK_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]
NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def pitch_name(pitch: int) -> str:
    """Scientific pitch name: 60 -> ``"C4"``."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def plot_pianoroll(
    piece: Piece,
    path: str | Path,
    *,
    title: str | None = None,
    seam: int | None = None,
    dpi: int = 120,
) -> Path:
    """Draw ``piece`` as a piano roll PNG, one colour per track.

    Bar lines are grey, the pickup bar is shaded, and ``seam`` (a step) draws a black
    line where a prime ends and a continuation begins, with the continuation shaded.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    notes = piece.notes
    bar = piece.bar_steps
    end_step = max(piece.n_bars, 1) * bar
    low = int(notes["pitch"].min()) - 2 if len(notes) else 58
    high = int(notes["pitch"].max()) + 2 if len(notes) else 70
    width = min(24.0, 3.0 + 0.9 * end_step / bar)
    fig, ax = plt.subplots(figsize=(width, 4.5))
    for track, _part in enumerate(piece.parts):
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
    fig.tight_layout()
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    finally:
        plt.close(fig)
