"""Pictures and audio of pieces: ``plots`` (piano rolls, training curves, histograms) and
``audio`` (WAV rendering with a SoundFont). matplotlib is imported only when drawing.
"""

from segue.render.audio import MAX_AUDIO_SECONDS, default_soundfont, render_wav, wav_bytes, wav_stats
from segue.render.plots import (
    draw_pianoroll,
    pitch_name,
    plot_histograms,
    plot_pianoroll,
    plot_pianorolls,
    plot_training_curves,
)

__all__ = [
    "MAX_AUDIO_SECONDS",
    "default_soundfont",
    "draw_pianoroll",
    "pitch_name",
    "plot_histograms",
    "plot_pianoroll",
    "plot_pianorolls",
    "plot_training_curves",
    "render_wav",
    "wav_bytes",
    "wav_stats",
]
