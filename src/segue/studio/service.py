"""The studio's work, with no HTTP: the model, the worker pool and what each endpoint does.

``Studio`` runs the model in a thread pool under the request time limit and the caps;
``notes_of`` turns a continuation into the notes and timing of the JSON answer.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from segue.studio.limits import Limits, RequestError

if TYPE_CHECKING:
    from segue.pipeline.continuation import Continuation


class Studio:
    """The model, the worker pool and the work each endpoint does (no HTTP here)."""

    def __init__(self, model: Any, limits: Limits) -> None:
        self.model, self.limits = model, limits
        self.pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="segue-model")
        self._examples: dict[str, Any] | None = None

    async def run(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` in the pool; 503 when it takes longer than the time limit."""
        future = asyncio.get_running_loop().run_in_executor(self.pool, work)
        try:
            return await asyncio.wait_for(future, self.limits.timeout_s)
        except asyncio.TimeoutError:
            raise RequestError(503, f"the request took longer than {self.limits.timeout_s:g} s") from None

    def check(self, bars: int, samples: int, seed: int) -> None:
        """Refuse work beyond the caps."""
        if not 1 <= bars <= self.limits.max_bars:
            raise RequestError(422, f"bars must be between 1 and {self.limits.max_bars}, not {bars}")
        if not 1 <= samples <= self.limits.max_samples:
            raise RequestError(422, f"samples must be between 1 and {self.limits.max_samples}, not {samples}")
        if not 0 <= seed < 2**63:
            raise RequestError(422, f"seed must be between 0 and 2^63 - 1, not {seed}")

    def continue_upload(self, data: bytes, label: str, options: dict[str, Any]) -> list[Any]:
        """Continue the uploaded file; variation i uses seed + i (so each can be redrawn alone)."""
        from segue.pipeline.continuation import continue_midi

        seed, samples = options.pop("seed"), options.pop("samples")
        results = []
        for i in range(samples):
            (result,) = continue_midi(data, model=self.model, seed=seed + i, name=label, **options)
            results.append(result)
        return results

    def describe(self, label: str, results: list[Any], seed: int) -> dict[str, Any]:
        """The JSON answer: the prime's and every variation's notes, and each variation's MIDI."""
        variations = []
        for i, result in enumerate(results):
            notes, timing = notes_of(result)
            variations.append(
                {"seed": seed + i, "midi": base64.b64encode(result.midi).decode(), "notes": notes}
            )
        first = results[0]
        return {
            "name": label,
            "model": first.chosen,
            "read_as": first.read_as,
            "prime_bars": first.prime_bars,
            "bars": first.bars,
            "voicing": first.voicing,
            "transposed": first.shift,
            **timing,
            "variations": variations,
        }

    def models(self) -> list[dict[str, Any]]:
        """What each model the studio may use is: its name, style, meter, voices and bars."""
        from segue.pipeline.catalog import Shelf

        if not isinstance(self.model, Shelf):
            return [_describe("", self.model.info.get("style", ""), self.model.config)]
        return [_describe(e.name, e.style, e.config) for e in self.model.entries]

    def examples(self) -> dict[str, Any]:
        """Bundled test pieces in a meter the studio's models know, by name (loaded once): every
        test chorale, and a few test pieces of each other bundled corpus (folk tunes, Palestrina's
        masses) per meter, named after their corpus."""
        if self._examples is None:
            from segue.data.chorales import load_chorales, split_indices

            dataset = load_chorales()
            meters = {m["meter"] for m in self.models()}
            pieces = [dataset[i] for i in split_indices(dataset, "test")]
            self._examples = {piece.name: piece for piece in pieces if str(piece.meter) in meters}
            for corpus in OTHER_CORPORA:
                self._examples.update(_corpus_examples(corpus, meters))
        return self._examples

    def example_midi(self, name: str) -> bytes:
        """One bundled chorale as MIDI; the name is looked up, never used as a path."""
        from segue.music.midi import midi_bytes

        piece = self.examples().get(name)
        if piece is None:
            raise RequestError(404, f"no bundled example named {name!r}")
        return midi_bytes(piece)

    def render(self, data: bytes, label: str) -> bytes:
        """A MIDI file as WAV bytes (the bundled synthesizer), up to 10 minutes of music."""
        from segue.music.midi import load_midi_bytes
        from segue.render import wav_bytes

        return wav_bytes(load_midi_bytes(data, label), max_seconds=600, label=label)


OTHER_CORPORA = ("folk", "palestrina")
"""Bundled corpora (``assets/<name>/dataset``) the studio takes examples from besides the chorales."""
EXAMPLES_PER_METER = 3
"""Test pieces of each of those corpora offered per meter."""


def _corpus_examples(corpus: str, meters: set[str]) -> dict[str, Any]:
    """Up to :data:`EXAMPLES_PER_METER` test pieces of a bundled corpus in each of ``meters``,
    named "<corpus> <piece>" (none when the corpus is not installed)."""
    from importlib import resources

    from segue.data.dataset import Dataset
    from segue.data.splits import piece_split

    path = resources.files("segue") / "assets" / corpus / "dataset"
    if not path.is_dir():
        return {}
    dataset = Dataset(str(path))
    taken: dict[str, int] = {}
    found = {}
    for i, meta in enumerate(dataset.metas):
        meter = str(meta["meter"])
        if meter in meters and piece_split(meta) == "test" and taken.get(meter, 0) < EXAMPLES_PER_METER:
            taken[meter] = taken.get(meter, 0) + 1
            found[f"{corpus} {meta['name']}"] = dataset[i]
    return found


def _describe(name: str, style: str, config: Any) -> dict[str, Any]:
    return {
        "name": name,
        "style": style,
        "meter": config.meter,
        "voices": list(config.voice_names),
        "context_bars": config.context_bars,
        "continuation_bars": config.continuation_bars,
    }


def notes_of(result: Continuation) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The notes of a continuation's MIDI for drawing, and its grid and tempo.

    Each note: pitch, start and length in steps, its track, and whether it was generated
    (starts at or after the seam). ``seconds_per_step`` is the pace at the first drawn bar; the
    tempo map gives, at the file's start and at each tempo change, the step (on the drawn grid,
    so negative before its first bar), the seconds of audio elapsed there and the seconds per
    step from there on: the page's play head follows it.
    """
    piece, seam = result.piece, result.seam_step
    notes = [
        {
            "pitch": int(n["pitch"]),
            "start": int(n["onset"]),
            "length": int(n["duration"]),
            "track": int(n["track"]),
            "generated": bool(n["onset"] >= seam),
        }
        for n in piece.notes
    ]
    first_tempo = piece.tempos[0][1] if piece.tempos else 500_000
    timing = {
        "steps_per_beat": piece.steps_per_beat,
        "steps_per_bar": piece.bar_steps,
        "seam": seam,
        "end": piece.end,
        "seconds_per_step": first_tempo / 1e6 / piece.steps_per_beat,
        "tempo_map": [
            {"step": step, "seconds": seconds, "seconds_per_step": pace}
            for step, seconds, pace in result.tempo_map
        ],
        "tracks": [part.name for part in piece.parts],
    }
    return notes, timing
