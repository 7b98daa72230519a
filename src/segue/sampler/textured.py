"""A voice-leading sampler calibrated apart for each texture of context: a melody (at most one
voice sounds in the context, the others rest) and parts (more than one voice sounds).

A model trained on melodies and on part music at once (the general models) writes both; one
calibration pools their moves at each position of the bar, so the melodies' rhythm pulls the
chorales' and the chorales' inner voices pull the melodies' empty ones. :class:`TexturedSampler`
keeps one :class:`~segue.sampler.voiceleading.VoiceLeadingSampler` per texture (the same chain,
its own calibration) and draws each window with the one its context's texture names;
:class:`TexturedRhythm` likewise keeps the choice among draws by their rhythm per texture, so that
a melody's candidates are weighed by the tunes' note lengths and not by the parts'.

With a :class:`~segue.sampler.styles.StyleReader`, the part music is calibrated apart for each
style of the training pieces instead of pooled under ``parts``, and each window of parts is drawn
with the calibration of the style its context reads as.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

from segue.models.generator import VoiceLogits
from segue.music.tokens import REST
from segue.sampler.rhythm import Choice, RhythmChoice
from segue.sampler.styles import StyleReader
from segue.sampler.voiceleading import VoiceLeadingSampler

TEXTURES = ("melody", "parts")
"""The textures a context is read as, in the order their windows are drawn."""


def textures(context: torch.Tensor) -> torch.Tensor:
    """(B,) index into TEXTURES of each (B, V, S) context: 0 where at most one voice sounds."""
    voices = (context != REST).any(dim=-1).sum(dim=-1)
    return (voices > 1).long()


def kinds(context: torch.Tensor, reader: StyleReader | None = None) -> list[tuple[str, torch.Tensor]]:
    """(name, rows) of each kind of context found among the (B, V, S) ``context``: by texture
    (TEXTURES), or with a ``reader`` melodies and the part music of each of its styles."""
    texture = textures(context)
    if reader is None:
        found = [(name, (texture == i).nonzero()[:, 0]) for i, name in enumerate(TEXTURES)]
    else:
        parts = texture.nonzero()[:, 0]
        style = reader(context[parts]).to(parts.device) if len(parts) else parts
        found = [("melody", (texture == 0).nonzero()[:, 0])]
        found += [(name, parts[style == i]) for i, name in enumerate(reader.names)]
    return [(name, rows) for name, rows in found if len(rows)]


def kind_names(reader: StyleReader | None) -> set[str]:
    """The names of the kinds of context :func:`kinds` finds, with or without a ``reader``."""
    return set(TEXTURES) if reader is None else {"melody", *reader.names}


def check_names(names: Sequence[str], reader: StyleReader | None, what: str) -> None:
    """Refuse calibrations (or rhythm tables) named other than the kinds of context drawn."""
    allowed = kind_names(reader)
    if not names or not set(names) <= allowed:
        raise ValueError(f"textured {what} must be named from {', '.join(sorted(allowed))}")


T = TypeVar("T")


def _for_texture(per_texture: dict[str, T], name: str) -> T:
    """What ``per_texture`` keeps for kind ``name``, else for parts, else its only entry."""
    return per_texture.get(name) or per_texture.get("parts") or next(iter(per_texture.values()))


def _rows(logits: VoiceLogits, rows: torch.Tensor, batch: int) -> VoiceLogits:
    """The voice-by-voice logits of some rows of a batch: the voices above are placed in a batch of
    rests (the head reads each row on its own) and the rows' logits taken back."""

    def voice(v: int, above: torch.Tensor | None) -> torch.Tensor:
        if above is None:
            return logits(v, None)[rows]
        full = torch.full((batch, *above.shape[1:]), REST, dtype=above.dtype, device=above.device)
        full[rows] = above
        return logits(v, full)[rows]

    return voice


class TexturedRhythm(Choice):
    """The choice among draws by their rhythm (:class:`~segue.sampler.rhythm.RhythmChoice`) with
    its tables counted apart for each texture of context (keys of TEXTURES): a melody's candidates
    are weighed by the tunes' note lengths, the parts' by the part music's; a texture without its
    own tables is weighed by ``parts``' (or the only ones there are)."""

    def __init__(self, choices: dict[str, RhythmChoice], reader: StyleReader | None = None) -> None:
        check_names(list(choices), reader, "rhythm choices")
        first = next(iter(choices.values()))
        if any((one.draws, one.weight) != (first.draws, first.weight) for one in choices.values()):
            raise ValueError("textured rhythm choices must share their draws and weight")
        self.choices = dict(choices)
        self.reader = reader
        self.draws, self.weight = first.draws, first.weight

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f"{name}.{k}": v for name, one in self.choices.items() for k, v in one.tensors().items()}

    def log_weights(
        self, tokens: np.ndarray, pitches: int, context: torch.Tensor | None = None
    ) -> np.ndarray:
        """(B,) the log-weight of each candidate, by the tables of its context's texture."""
        if context is None:
            raise ValueError("a rhythm choice per texture needs the context of every candidate")
        found = np.zeros(len(tokens))
        for name, rows in kinds(context, self.reader):
            these = rows.numpy()
            found[these] = _for_texture(self.choices, name).log_weights(tokens[these], pitches)
        return found


class TexturedSampler:
    """One voice-leading sampler per kind of context: per texture (keys of TEXTURES), or with a
    ``reader``, for melodies and for the part music of each style it reads (each style's chain may
    be counted on its own pieces); a kind without its own draws with ``parts``' (or the first
    there is). ``rhythm``: the choice among draws by their notes' lengths
    (:class:`~segue.sampler.rhythm.RhythmChoice` for every kind, or :class:`TexturedRhythm`;
    None: one draw)."""

    def __init__(
        self,
        samplers: dict[str, VoiceLeadingSampler],
        rhythm: Choice | None = None,
        reader: StyleReader | None = None,
    ) -> None:
        check_names(list(samplers), reader, "samplers")
        if reader is not None and not set(reader.names) <= set(samplers):
            raise ValueError("every style a textured sampler's reader names needs a calibration")
        first = next(iter(samplers.values()))
        for sampler in samplers.values():
            same = (sampler.strength, sampler.parallels) == (first.strength, first.parallels)
            if not same or sampler.potentials.shape != first.potentials.shape:
                raise ValueError("textured samplers must share their chain's shape, strength and parallels")
        self.samplers = dict(samplers)
        self.strength, self.parallels = first.strength, first.parallels
        # the first kind's chain: the one every kind shares, unless a kind counted its own
        self.potentials = first.potentials
        self.rhythm = rhythm
        self.reader = reader

    def for_texture(self, name: str) -> VoiceLeadingSampler:
        """The sampler that draws windows of texture ``name``."""
        return _for_texture(self.samplers, name)

    def draw(
        self,
        logits: torch.Tensor | VoiceLogits,
        context: torch.Tensor,
        rng: torch.Generator,
        temperature: float = 1.0,
        history: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, V, S) tokens: the windows of each kind of context drawn by its sampler, melodies
        first."""
        batch = len(context)
        out: torch.Tensor | None = None
        for name, rows in kinds(context, self.reader):
            sampler = self.for_texture(name)
            if len(rows) == batch:  # one texture: no rows to pick
                return sampler.draw(logits, context, rng, temperature, history)
            part = logits[rows] if isinstance(logits, torch.Tensor) else _rows(logits, rows, batch)
            tokens = sampler.draw(
                part, context[rows], rng, temperature, None if history is None else history[rows]
            )
            if out is None:
                out = torch.empty((batch, *tokens.shape[1:]), dtype=tokens.dtype, device=tokens.device)
            out[rows] = tokens
        assert out is not None  # every row has a texture
        return out
