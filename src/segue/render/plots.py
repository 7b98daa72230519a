"""Pictures of pieces: piano rolls, training curves, histograms, and pitch names.

matplotlib is imported only when drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

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
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 9), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))  # the shared legend below the panels
    return _save(fig, path, dpi)
