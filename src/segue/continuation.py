"""Continue any MIDI file: map it onto the model's voices, generate, and write it back.

The pipeline of ``segue generate`` and of :func:`continue_midi`:

1. Read the file (:func:`segue.music.read_midi`); its first meter segment is the prime's
   source, and its meter must be the model's (a 7/8 file and a 4/4 model: an error).
2. The prime is its first K complete bars (default: all of them); a pickup bar is kept
   and not counted. A prime shorter than the model's prior is padded with silence in
   front.
3. The prime's notes are split into the model's voices (:mod:`segue.music.voices`) and
   transposed by the shift that puts each voice best into the range that voice had in
   the training data; pitches still outside the model's range move by octaves into it.
4. The generator continues the voices autoregressively, C bars at a time; the result is
   transposed back.
5. The output is the original file up to the end of bar K, as it was, followed by the
   generated notes in the instrument of each voice's source track
   (:mod:`segue.music.splice`). A note the generator holds over the seam is struck
   again at the seam.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from segue.errors import MidiError, SegueError
from segue.modelfile import SegueModel
from segue.music.midi import load_midi_bytes, read_midi
from segue.music.piece import Part, Piece, sort_notes
from segue.music.splice import Addition, splice
from segue.music.tokens import REST, from_tokens, to_tokens
from segue.music.voices import split_voices
from segue.sampling import continue_tokens

MAX_BARS = 10_000
MAX_SAMPLES = 64


@dataclass(frozen=True)
class Continuation:
    """One continuation: the output MIDI file, and where the generated part starts."""

    midi: bytes
    seam_tick: int
    prime_bars: int
    bars: int
    shift: int
    voicing: str


def check_temperature(temperature: float) -> None:
    """Refuse a sampling temperature outside (0, 10]."""
    if not 0 < temperature <= 10:
        raise SegueError(f"temperature must be in (0, 10], not {temperature}")


def check_arguments(
    bars: int, samples: int, truncation: float | None, prime_bars: int | None, temperature: float = 1.0
) -> None:
    """Refuse absurd arguments before any work."""
    check_temperature(temperature)
    if not 1 <= bars <= MAX_BARS:
        raise SegueError(f"bars must be between 1 and {MAX_BARS:,}, not {bars}")
    if not 1 <= samples <= MAX_SAMPLES:
        raise SegueError(f"samples must be between 1 and {MAX_SAMPLES}, not {samples}")
    if truncation is not None and not 0 < truncation <= 10:
        raise SegueError(f"truncation must be in (0, 10], not {truncation}")
    if prime_bars is not None and prime_bars < 1:
        raise SegueError(f"prime bars must be at least 1, not {prime_bars}")


def continue_midi(
    source: str | Path | bytes,
    bars: int = 8,
    *,
    prime_bars: int | None = None,
    model: SegueModel | None = None,
    seed: int = 0,
    samples: int = 1,
    truncation: float | None = None,
    temperature: float = 1.0,
    name: str | None = None,
) -> list[Continuation]:
    """Continue a MIDI file (a path or its bytes) by ``bars`` bars; ``samples`` variations.

    ``name`` labels the file in error messages (default: its path, or ``<bytes>``).

    >>> import segue
    >>> [c] = segue.continue_midi("song.mid", bars=8, seed=0)   # doctest: +SKIP
    >>> open("song-continued.mid", "wb").write(c.midi)           # doctest: +SKIP
    """
    check_arguments(bars, samples, truncation, prime_bars, temperature)
    if model is None:
        from segue import load_model

        model = load_model()
    label = name or (str(source) if not isinstance(source, bytes) else "<bytes>")
    data = load_midi_bytes(source, label)
    pieces = read_midi(data, name=label, steps_per_beat=model.config.steps_per_beat).pieces
    piece = _prime_piece(pieces, model, label)
    k = piece.complete_bars if prime_bars is None else prime_bars
    if k > piece.complete_bars:
        raise MidiError(label, f"has {piece.complete_bars} complete bars, fewer than the {k} asked for")
    cut_step = (piece.first_bar + k) * piece.bar_steps
    voices, sources, shift, rule = prime_voices(piece, cut_step, model)
    generated = continue_voices(
        voices, bars, model, seed=seed, samples=samples, truncation=truncation, temperature=temperature
    )
    origin, tpq = int(piece.extra["origin_step"]), int(piece.extra["ticks_per_beat"])
    cut_tick = round((origin + cut_step) * tpq / piece.steps_per_beat)
    velocities = _velocities(piece, cut_step)
    out = []
    for tokens in generated:
        whole = np.concatenate([voices, tokens], axis=1)
        notes = from_tokens(whole, model.config.lowest)
        notes = _after_seam(notes, voices.shape[1])
        notes["pitch"] = notes["pitch"].astype(np.int64) - shift
        additions = _additions(notes, sources, piece, velocities, model)
        midi = splice(data, cut_tick, piece.steps_per_beat, additions)
        out.append(Continuation(midi, cut_tick, k, bars, shift, rule))
    return out


def _prime_piece(pieces: list[Piece], model: SegueModel, label: str) -> Piece:
    piece = pieces[0]
    if str(piece.meter) != model.config.meter:
        raise MidiError(label, f"is in {piece.meter}; the model knows only {model.config.meter}")
    if piece.steps_per_beat != model.config.steps_per_beat:
        raise SegueError("the file was read at another grid resolution than the model's")
    return piece


def voice_centres(model: SegueModel) -> list[float]:
    """The middle pitch of each voice's range (from training, else the model's range)."""
    return [(low + high) / 2 for low, high in voice_ranges(model)]


def voice_ranges(model: SegueModel) -> list[tuple[int, int]]:
    """Each voice's (lowest, highest) pitch in the training data, else the model's range."""
    config = model.config
    ranges = model.info.get("voice_ranges")
    if isinstance(ranges, list) and len(ranges) == config.voices:
        return [(int(low), int(high)) for low, high in ranges]
    return [(config.lowest, config.highest)] * config.voices


def best_shift(notes: np.ndarray, ranges: list[tuple[int, int]]) -> int:
    """The transposition in [-11, 12] that puts the voices' notes best into their ranges."""
    costs = []
    for shift in range(-11, 13):
        cost = 0
        for voice, (low, high) in enumerate(ranges):
            pitch = notes["pitch"][notes["track"] == voice].astype(np.int64) + shift
            cost += int(np.maximum(low - pitch, 0).sum() + np.maximum(pitch - high, 0).sum())
        costs.append((cost, abs(shift), shift))
    return min(costs)[2]


def prime_voices(
    piece: Piece, cut_step: int, model: SegueModel
) -> tuple[np.ndarray, tuple[int, ...], int, str]:
    """The prime as (V, cut_step) model tokens, each voice's source track, the shift, the rule."""
    config = model.config
    split = split_voices(piece.notes, config.voices, cut_step, voice_centres(model))
    if not len(split.notes):
        raise SegueError(f"{piece.name}: the prime has no notes to continue")
    shift = best_shift(split.notes, voice_ranges(model))
    notes = split.notes.copy()
    pitch = notes["pitch"].astype(np.int64) + shift
    while (pitch < config.lowest).any() or (pitch > config.highest).any():  # fold by octaves
        pitch = np.where(pitch < config.lowest, pitch + 12, pitch)
        pitch = np.where(pitch > config.highest, pitch - 12, pitch)
    notes["pitch"] = pitch
    tokens = to_tokens(notes, config.voices, cut_step, config.lowest, config.highest)
    sources = tuple(piece.extra["source_tracks"][s] if s >= 0 else -1 for s in split.sources)
    return tokens, sources, shift, split.rule


def continue_voices(
    voices: np.ndarray,
    bars: int,
    model: SegueModel,
    *,
    seed: int = 0,
    samples: int = 1,
    truncation: float | None = None,
    temperature: float = 1.0,
) -> np.ndarray:
    """Continue (V, S) prime tokens; returns (samples, V, bars * steps_per_bar) tokens."""
    primes = np.repeat(voices[None], samples, axis=0)
    return continue_primes(primes, bars, model, seed, truncation, temperature)


def continue_primes(
    primes: np.ndarray,
    bars: int,
    model: SegueModel,
    seed: int = 0,
    truncation: float | None = None,
    temperature: float = 1.0,
) -> np.ndarray:
    """Continue a batch of (W, V, S) primes in one pass; returns (W, V, bars * steps_per_bar).

    Only the last P bars of each prime are read; a shorter prime gets silence in front.
    """
    config = model.config
    prior = primes[:, :, -config.prior_steps :]
    if prior.shape[2] < config.prior_steps:  # a short prime: silence in front
        pad = np.full((*prior.shape[:2], config.prior_steps - prior.shape[2]), REST, dtype=prior.dtype)
        prior = np.concatenate([pad, prior], axis=2)
    batch = torch.from_numpy(np.ascontiguousarray(prior)).long()
    generator = torch.Generator().manual_seed(seed)
    return continue_tokens(
        model.generator, batch, bars, generator, truncation, temperature, model.lines
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
        from segue import load_model

        model = load_model()
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
    notes: np.ndarray, sources: tuple[int, ...], piece: Piece, velocities: dict[int, int], model: SegueModel
) -> list[Addition]:
    file_tracks = list(piece.extra["source_tracks"])
    out = []
    for voice, source in enumerate(sources):
        chunk = notes[notes["track"] == voice].copy()
        if not len(chunk):
            continue
        if source >= 0:
            chunk["velocity"] = velocities[file_tracks.index(source)]
            out.append(Addition(chunk, source, piece.parts[file_tracks.index(source)]))
        else:
            out.append(Addition(chunk, -1, Part(model.config.voice_names[voice], 52)))
    return out


__all__ = ["Continuation", "continue_midi", "continue_roll"]
