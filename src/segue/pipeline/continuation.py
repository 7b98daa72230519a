"""Continue any MIDI file: map it onto the model's voices, generate, and write it back.

The pipeline of ``segue generate`` and of :func:`continue_midi`:

1. Read the file once (:func:`segue.music.midi.parse_midi`); its first meter segment is the prime's
   source. A model given by the caller must know its meter or count the same beats at another
   note value (a 4/2 file and a 4/4 model: the file is read on a grid half as fine; a 7/8 file
   and a 4/4 model: an error); a shipped model chosen for the file may be of the nearest meter
   (:func:`segue.pipeline.catalog.meter_fit`): the file is read on that model's grid (or one twice,
   half, four times or a quarter as fine), the model writes its own bars one after the other, as
   many as fill the file's bars, and the file keeps its meter.
2. The prime is its first K complete bars (default: all of them); a pickup bar is kept
   and not counted. A prime shorter than the model's context is preceded by its own whole
   bars again (:func:`_fill_context`).
3. The prime's notes are split into the model's voices (:mod:`segue.music.voices`) and
   transposed by the shift that puts each voice best into the range that voice had in
   the training data; pitches still outside the model's range move by octaves into it.
4. The generator continues the voices autoregressively, C bars at a time; the result is
   transposed back.
5. The output is the original file up to the end of bar K, as it was, followed by the
   generated notes in the instrument of each voice's source track
   (:mod:`segue.music.splice`). A note the generator holds over the seam is struck
   again at the seam. Drum tracks go on with the prime's groove bar, bar-aligned
   (:mod:`segue.music.groove`). Each :class:`Continuation` carries what callers show: the
   seam in steps, the tempo map and the answer as a piece.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from segue.errors import MidiError, SegueError
from segue.models.config import ModelConfig
from segue.music.groove import groove_additions
from segue.music.midi import FilePlace, MidiFile, parse_midi, read_midi
from segue.music.piece import Part, Piece, sort_notes
from segue.music.splice import Addition, splice
from segue.music.timing import tempo_segments
from segue.music.tokens import REST, from_tokens, seam_tail
from segue.music.voices import is_monophonic
from segue.pipeline.arguments import check_arguments
from segue.pipeline.arrange import PartNotes, arrange, entering_parts, entering_registers, prime_profile
from segue.pipeline.catalog import SHIPPED_STEPS_PER_BEAT, Shelf, meter_fit
from segue.pipeline.model import SegueModel
from segue.pipeline.sampling import continue_tokens, key_biases
from segue.pipeline.voicing import prime_voices, voice_centres
from segue.sampler.config import KEY_STRENGTH
from segue.sampler.textured import TexturedSampler, kinds


@dataclass(frozen=True)
class Continuation:
    """One continuation: the output MIDI file, where the generated part starts, and the answer
    as callers show it (read once, when first asked for)."""

    midi: bytes
    seam_tick: int
    prime_bars: int
    bars: int
    shift: int
    voicing: str
    chosen: str = ""
    """The shipped model picked for the file and why (empty when the caller gave the model)."""
    read_as: str = ""
    """The style the model's sampler read the prime's part music as, choosing its calibration by
    it (a general model's, :mod:`segue.sampler.styles`); empty for any other sampler or a melody."""

    @functools.cached_property
    def _answer(self) -> tuple[Piece, FilePlace, MidiFile]:
        """The answer parsed and read, once (a cached property may be set on a frozen dataclass)."""
        answer = parse_midi(self.midi, "<continuation>")
        result = read_midi(answer, keep_drums=True)
        return result.pieces[0], result.places[0], answer

    @property
    def piece(self) -> Piece:
        """The answer as a piece: every track of the file, drums included, on its bar grid."""
        return self._answer[0]

    @property
    def seam_step(self) -> int:
        """The step of :attr:`piece` where the generated part starts."""
        piece, place, _ = self._answer
        return place.step_of(self.seam_tick, piece.steps_per_beat)

    @property
    def tempo_map(self) -> list[tuple[float, float, float]]:
        """``(step, seconds, seconds per step)`` at the answer's start and at each tempo change,
        the step on :attr:`piece`'s grid (negative before its first bar)."""
        piece, place, answer = self._answer
        segments = tempo_segments(answer, piece.steps_per_beat)
        return [(step - place.origin_step, seconds, pace) for step, seconds, pace in segments]


def continue_midi(
    source: str | Path | bytes,
    bars: int = 8,
    *,
    prime_bars: int | None = None,
    model: SegueModel | Shelf | None = None,
    style: str | None = None,
    seed: int = 0,
    samples: int = 1,
    truncation: float | None = None,
    temperature: float = 1.0,
    name: str | None = None,
    key_strength: float = KEY_STRENGTH,
) -> list[Continuation]:
    """Continue a MIDI file (a path or its bytes) by ``bars`` bars; ``samples`` variations.

    ``model`` is the model to use, or a :class:`~segue.pipeline.catalog.Shelf` of shipped
    models; by default the shipped model for the file's meter in ``style`` (default: the
    chorales) is picked (:func:`~segue.pipeline.catalog.choose_model`). ``name`` labels the
    file in error messages (default: its path, or ``<bytes>``). ``key_strength``: how strongly
    the draw keeps to the pitch classes of the prime's last bars (the key prior; 0: not at all).

    >>> import segue
    >>> [c] = segue.continue_midi("song.mid", bars=8, seed=0)   # doctest: +SKIP
    >>> open("song-continued.mid", "wb").write(c.midi)           # doctest: +SKIP
    """
    check_arguments(bars, samples, truncation, prime_bars, temperature)
    if isinstance(model, SegueModel) and style is not None:
        raise SegueError("give a model or a style, not both")
    label = name or (str(source) if not isinstance(source, bytes) else "<bytes>")
    original = parse_midi(source, label)
    steps_per_beat = model.config.steps_per_beat if isinstance(model, SegueModel) else SHIPPED_STEPS_PER_BEAT
    read = read_midi(original, name=label, steps_per_beat=steps_per_beat)
    chosen, first = "", read.pieces[0]
    if isinstance(model, SegueModel):  # its meter, or the same beats at another note value
        fit = meter_fit(str(first.meter), model.config.meter)
        readable = fit.rank == 1 and (model.config.steps_per_beat * fit.scale).denominator == 1
        scale, explicit = (fit.scale, False) if readable else (Fraction(1), True)
    else:
        melody = is_monophonic(first.notes, first.end)
        model, choice = (model or Shelf(style)).model_for(str(first.meter), label, melody)
        chosen, scale, explicit = f"{choice.entry.name} ({choice.reason})", choice.scale, False
    grid = model.config.steps_per_beat * scale  # 3/8 read as 3/4: a grid twice as fine
    if grid != steps_per_beat:
        read = read_midi(original, name=label, steps_per_beat=int(grid))
    piece, place = _prime_piece(read.pieces, model, label, explicit), read.places[0]
    k = piece.complete_bars if prime_bars is None else prime_bars
    if k > piece.complete_bars:
        raise MidiError(label, f"has {piece.complete_bars} complete bars, fewer than the {k} asked for")
    cut_step = (piece.first_bar + k) * piece.bar_steps
    prime = prime_voices(piece, place, cut_step, model)
    voices, sources, shift, rule = prime.tokens, prime.sources, prime.shift, prime.rule
    steps = bars * piece.bar_steps  # the model's own bars, as many as fill the file's
    model_bars = -(-steps // model.config.steps_per_bar)
    profile = prime_profile(piece, cut_step)  # the key prior's, in the model's transposition
    key = np.roll(profile, shift)
    generated = continue_voices(
        voices,
        model_bars,
        model,
        seed=seed,
        samples=samples,
        truncation=truncation,
        temperature=temperature,
        key=key,
        key_strength=key_strength,
    )[:, :, :steps]
    cut_tick = place.tick_of(cut_step, piece.steps_per_beat)
    velocities = _velocities(piece, cut_step)
    tail = voices[:, voices.shape[1] - seam_tail(voices) :]  # the prime's end: what sounds at the seam
    drums = groove_additions(original.score, place, cut_step, piece.bar_steps, k, bars, piece.steps_per_beat)
    file_tracks = list(place.source_tracks)
    heard = tuple(file_tracks.index(s) if s >= 0 else -1 for s in sources)
    parts = entering_parts(piece, cut_step, heard)
    registers = entering_registers(piece, heard, parts, [c - shift for c in voice_centres(model)])
    read_as = _read_as(voices, model)
    out = []
    for tokens in generated:
        notes = from_tokens(np.concatenate([tail, tokens], axis=1), model.config.lowest)
        notes = _after_seam(notes, tail.shape[1])
        notes["pitch"] = notes["pitch"].astype(np.int64) - shift
        arranged = arrange(piece, cut_step, prime.notes, parts, notes, steps, profile, registers)
        additions = _additions(arranged, piece, place, velocities, model)
        midi = splice(original.score, cut_tick, piece.steps_per_beat, additions + drums)
        out.append(Continuation(midi, cut_tick, k, bars, shift, rule, chosen, read_as))
    return out


def _read_as(voices: np.ndarray, model: SegueModel) -> str:
    """The style a sampler calibrated per style of part music reads the (V, S) prime tokens'
    context as ("" for another sampler, or for a melody)."""
    sampler = model.sampler
    if not isinstance(sampler, TexturedSampler) or sampler.reader is None:
        return ""
    ((name, _),) = kinds(_context_batch(voices[None], model.config), sampler.reader)
    return "" if name == "melody" else name


def _prime_piece(pieces: list[Piece], model: SegueModel, label: str, explicit: bool) -> Piece:
    piece = pieces[0]
    if explicit and str(piece.meter) != model.config.meter:
        raise MidiError(label, f"is in {piece.meter}; the model knows only {model.config.meter}")
    if explicit and piece.steps_per_beat != model.config.steps_per_beat:
        raise SegueError("the file was read at another grid resolution than the model's")
    return piece


def continue_voices(
    voices: np.ndarray,
    bars: int,
    model: SegueModel,
    *,
    seed: int = 0,
    samples: int = 1,
    truncation: float | None = None,
    temperature: float = 1.0,
    key: np.ndarray | None = None,
    key_strength: float = KEY_STRENGTH,
) -> np.ndarray:
    """Continue (V, S) prime tokens; returns (samples, V, bars * steps_per_bar) tokens. ``key``:
    the prime's pitch-class profile (12 weights, in the model's transposition) for the key prior."""
    primes = np.repeat(voices[None], samples, axis=0)
    return continue_primes(primes, bars, model, seed, truncation, temperature, key, key_strength)


def _fill_context(context: np.ndarray, steps: int, bar: int) -> np.ndarray:
    """(W, V, ``steps``) context from a (W, V, S) prime: a prime shorter than the context is
    preceded by its own whole bars again, the last first, as often as the context needs (the
    model never trained on music that starts after bars of silence, and answered a one-bar
    chorale with a bass alone for three bars); silence only when it holds no whole bar."""
    short = steps - context.shape[2]
    if short <= 0:
        return context
    whole = context.shape[2] // bar * bar
    if whole:
        repeats = -(-short // whole)
        pad = np.tile(context[:, :, context.shape[2] - whole :], (1, 1, repeats))[:, :, -short:]
    else:
        pad = np.full((*context.shape[:2], short), REST, dtype=context.dtype)
    return np.concatenate([pad, context], axis=2)


def _context_batch(primes: np.ndarray, config: ModelConfig) -> torch.Tensor:
    """(W, V, context steps) the contexts G reads first from (W, V, S) primes: their last P bars,
    a shorter prime preceded by its own bars (:func:`_fill_context`)."""
    context = _fill_context(primes[:, :, -config.context_steps :], config.context_steps, config.steps_per_bar)
    return torch.from_numpy(np.ascontiguousarray(context)).long()


def continue_primes(
    primes: np.ndarray,
    bars: int,
    model: SegueModel,
    seed: int = 0,
    truncation: float | None = None,
    temperature: float = 1.0,
    key: np.ndarray | None = None,
    key_strength: float = KEY_STRENGTH,
) -> np.ndarray:
    """Continue a batch of (W, V, S) primes in one pass; returns (W, V, bars * steps_per_bar).

    Only the last P bars of each prime are read; a shorter prime is preceded by its own bars. ``key``
    (12 weights, or (W, 12): one per prime): draw under the key prior of that pitch-class profile,
    of ``key_strength`` (:func:`~segue.pipeline.sampling.key_bias`).
    """
    config = model.config
    batch = _context_batch(primes, config)
    rng = torch.Generator().manual_seed(seed)
    bias = None
    if key is not None and key_strength:  # one profile for every prime, or one each
        bias = key_biases(np.reshape(key, (-1, 12)), config.lowest, config.vocab, key_strength)
    return continue_tokens(
        model.generator, batch, bars, rng, truncation, temperature, model.sampler, bias
    ).numpy()


def continue_roll(
    roll: np.ndarray,
    bars: int = 8,
    *,
    model: SegueModel | None = None,
    seed: int = 0,
    samples: int = 1,
    truncation: float | None = None,
    temperature: float = 1.0,
) -> np.ndarray:
    """Continue voices given as (V, S) tokens in memory; returns (samples, V, bars * steps_per_bar)."""
    check_arguments(bars, samples, truncation, None, temperature)
    if model is None:
        model = _default_model()
    roll = np.asarray(roll)
    if roll.ndim != 2 or roll.shape[0] != model.config.voices:
        raise SegueError(f"expected tokens of shape ({model.config.voices}, steps), got {roll.shape}")
    if roll.min() < 0 or roll.max() >= model.config.vocab:
        raise SegueError(f"tokens must lie in [0, {model.config.vocab})")
    return continue_voices(
        roll, bars, model, seed=seed, samples=samples, truncation=truncation, temperature=temperature
    )


def _after_seam(notes: np.ndarray, seam: int) -> np.ndarray:
    """The notes from the seam on; a note sounding over the seam restarts there."""
    end = notes["onset"] + notes["duration"]
    notes = notes[end > seam].copy()
    start = np.maximum(notes["onset"], seam)
    notes["duration"] = notes["onset"] + notes["duration"] - start
    notes["onset"] = start - seam
    return sort_notes(notes)


def _velocities(piece: Piece, cut_step: int) -> dict[int, int]:
    """The median velocity of each part's prime notes."""
    out = {}
    for index in range(len(piece.parts)):
        chunk = piece.notes[(piece.notes["track"] == index) & (piece.notes["onset"] < cut_step)]
        out[index] = int(np.median(chunk["velocity"])) if len(chunk) else 80
    return out


def _additions(
    arranged: list[PartNotes],
    piece: Piece,
    place: FilePlace,
    velocities: dict[int, int],
    model: SegueModel,
) -> list[Addition]:
    """The arranged notes as additions to the file's tracks (a voice without a part: a new track);
    a voice's notes take its part's median velocity, a pattern keeps its own."""
    out = []
    for item in arranged:
        chunk = item.notes.copy()
        if item.part < 0:
            out.append(Addition(chunk, -1, Part(model.config.voice_names[item.voice], 52)))
            continue
        if item.voice >= 0:
            chunk["velocity"] = velocities[item.part]
        out.append(Addition(chunk, place.source_tracks[item.part], piece.parts[item.part]))
    return out


def _default_model() -> SegueModel:
    from segue.pipeline.model import load_model

    return load_model()


__all__ = ["Continuation", "continue_midi", "continue_roll"]
