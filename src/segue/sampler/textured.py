"""A voice-leading sampler calibrated apart for each texture of context: a melody (at most one
voice sounds in the context, the others rest) and parts (more than one voice sounds).

A model trained on melodies and on part music at once (the general models) writes both; one
calibration pools their moves at each position of the bar, so the melodies' rhythm pulls the
chorales' and the chorales' inner voices pull the melodies' empty ones. :class:`TexturedSampler`
keeps one :class:`~segue.sampler.voiceleading.VoiceLeadingSampler` per texture (the same chain,
its own calibration) and draws each window with the one its context's texture names.
"""

from __future__ import annotations

import torch

from segue.models.generator import VoiceLogits
from segue.music.tokens import REST
from segue.sampler.rhythm import RhythmChoice
from segue.sampler.voiceleading import VoiceLeadingSampler

TEXTURES = ("melody", "parts")
"""The textures a context is read as, in the order their windows are drawn."""


def textures(context: torch.Tensor) -> torch.Tensor:
    """(B,) index into TEXTURES of each (B, V, S) context: 0 where at most one voice sounds."""
    voices = (context != REST).any(dim=-1).sum(dim=-1)
    return (voices > 1).long()


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


class TexturedSampler:
    """One voice-leading sampler per texture (keys of TEXTURES); a texture without its own draws
    with ``parts``' (or the only one there is). ``rhythm``: the choice among draws by their notes'
    lengths, for every texture (:class:`~segue.sampler.rhythm.RhythmChoice`; None: one draw)."""

    def __init__(self, samplers: dict[str, VoiceLeadingSampler], rhythm: RhythmChoice | None = None) -> None:
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
        return self.samplers.get(name) or self.samplers.get("parts") or next(iter(self.samplers.values()))

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
