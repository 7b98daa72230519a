"""Audio of the shipped model's continuations for the README: three held-out test chorales.

    .venv/bin/python scripts/audio_samples.py [--out docs/audio] [--seed 0]

Each chorale keeps its first 4 bars (Bach) and gets 8 generated bars; writes NAME.mid and
NAME.ogg (the WAV rendered with the bundled SoundFont, compressed with ``oggenc``, from
Debian's vorbis-tools, when it is installed) and prints each file's length, peak and
share of silence.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from segue import continue_midi, load_model
from segue.data.chorales import load_chorales, split_indices
from segue.music.midi import midi_bytes
from segue.render import render_wav, wav_stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/audio"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = load_model()
    chorales = load_chorales()
    tests = [chorales[i] for i in split_indices(chorales, "test")]
    usable = [p for p in tests if str(p.meter) == model.config.meter and p.complete_bars >= 12]
    args.out.mkdir(parents=True, exist_ok=True)
    for piece in (usable[0], usable[len(usable) // 2], usable[-1]):
        (take,) = continue_midi(
            midi_bytes(piece), 8, prime_bars=4, model=model, seed=args.seed, name=piece.name
        )
        stem = args.out / f"{piece.name}-continued"
        Path(f"{stem}.mid").write_bytes(take.midi)
        with tempfile.TemporaryDirectory() as tmp:
            wav = render_wav(take.midi, Path(tmp) / "take.wav")
            stats = wav_stats(wav)
            if shutil.which("oggenc"):
                subprocess.run(["oggenc", "-Q", "-q", "3", "-o", f"{stem}.ogg", str(wav)], check=True)
        print(
            f"{stem}: {stats['seconds']:.1f} s, peak {stats['peak']:.2f}, silent {stats['silent_share']:.0%}"
        )


if __name__ == "__main__":
    main()
