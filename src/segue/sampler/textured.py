"""A voice-leading sampler calibrated apart for each texture of context: a melody (at most one
voice sounds in the context, the others rest) and parts (more than one voice sounds).

A model trained on melodies and on part music at once (the general models) writes both; one
calibration pools their moves at each position of the bar, so the melodies' rhythm pulls the
chorales' and the chorales' inner voices pull the melodies' empty ones. :class:`TexturedSampler`
keeps one :class:`~segue.sampler.voiceleading.VoiceLeadingSampler` per texture (the same chain,
its own calibration) and draws each window with the one its context's texture names;
:class:`TexturedRhythm` likewise keeps the choice among draws by their rhythm per texture, so that
a melody's candidates are weighed by the tunes' note lengths and not by the parts'.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

from segue.models.generator import VoiceLogits
from segue.music.tokens import REST
from segue.sampler.rhythm import Choice, RhythmChoice
from segue.sampler.voiceleading import VoiceLeadingSampler

TEXTURES = ("melody", "parts")
"""The textures a context is read as, in the order their windows are drawn."""


def textures(context: torch.Tensor) -> torch.Tensor:
    """(B,) index into TEXTURES of each (B, V, S) context: 0 where at most one voice sounds."""
    voices = (context != REST).any(dim=-1).sum(dim=-1)
    return (voices > 1).long()


T = TypeVar("T")


def _for_texture(per_texture: dict[str, T], name: str) -> T:
    """What ``per_texture`` keeps for texture ``name``, else for parts, else its only entry."""
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

    def __init__(self, choices: dict[str, RhythmChoice]) -> None:
        if not choices or not set(choices) <= set(TEXTURES):
            raise ValueError(f"textured rhythm choices must be named from {', '.join(TEXTURES)}")
        first = next(iter(choices.values()))
        if any((one.draws, one.weight) != (first.draws, first.weight) for one in choices.values()):
            raise ValueError("textured rhythm choices must share their draws and weight")
        self.choices = dict(choices)
        self.draws, self.weight = first.draws, first.weight

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f"{name}.{k}": v for name, one in self.choices.items() for k, v in one.tensors().items()}

    def log_weights(
        self, tokens: np.ndarray, pitches: int, context: torch.Tensor | None = None
    ) -> np.ndarray:
        """(B,) the log-weight of each candidate, by the tables of its context's texture."""
        if context is None:
            raise ValueError("a rhythm choice per texture needs the context of every candidate")
        kinds = textures(context).numpy()
        found = np.zeros(len(tokens))
        for index, name in enumerate(TEXTURES):
            rows = np.nonzero(kinds == index)[0]
            if len(rows):
                found[rows] = _for_texture(self.choices, name).log_weights(tokens[rows], pitches)
        return found


class TexturedSampler:
    """One voice-leading sampler per texture (keys of TEXTURES); a texture without its own draws
    with ``parts``' (or the only one there is). ``rhythm``: the choice among draws by their notes'
    lengths (:class:`~segue.sampler.rhythm.RhythmChoice` for every texture, or
    :class:`TexturedRhythm`; None: one draw)."""

    def __init__(self, samplers: dict[str, VoiceLeadingSampler], rhythm: Choice | None = None) -> None:
        if not samplers or not set(samplers) <= set(TEXTURES):
            raise ValueError(f"textured samplers must be named from {', '.join(TEXTURES)}")
        first = next(iter(samplers.values()))
        for sampler in samplers.values():  # a model folder stores the chain once
            same = (sampler.strength, sampler.parallels) == (first.strength, first.parallels)
            if not same or not torch.equal(sampler.potentials, first.potentials):
                raise ValueError("textured samplers must share their chain, strength and parallels")
        self.samplers = dict(samplers)
        self.strength, self.parallels = first.strength, first.parallels
        self.potentials = first.potentials
        self.rhythm = rhythm

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
        """(B, V, S) tokens: the windows of each texture drawn by its sampler, melodies first."""
        kinds = textures(context)
        batch = len(context)
        out: torch.Tensor | None = None
        for index, name in enumerate(TEXTURES):
            rows = (kinds == index).nonzero()[:, 0]
            if len(rows) == 0:
                continue
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
