"""Fitting the sampler at the end of training: the chain counted on the training pieces, then
the calibration on continuations that this model writes of training windows and of the windows
of one half of the validation pieces (:func:`validation_half`).
The sampler's own code (:mod:`segue.sampler`) does the fitting; this module gives it the data
and a way to draw."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from segue.errors import SegueError
from segue.models import Generator
from segue.models.config import ModelConfig
from segue.music.piece import Piece
from segue.pipeline.pieces import on_grid
from segue.pipeline.sampling import continue_tokens, key_biases, key_profiles
from segue.sampler import SamplerConfig, VoiceLeadingSampler, calibrate
from segue.sampler.textured import TEXTURES, TexturedSampler, textures
from segue.training.windows import WindowSampler

MIN_TEXTURE_WINDOWS = 50
"""A texture is calibrated apart only with at least this many calibration windows; with fewer,
its windows are drawn with the other texture's calibration."""


def validation_half(
    pieces: Sequence[Piece], config: ModelConfig, half: Literal["calibration", "choice"]
) -> list[Piece]:
    """One of two fixed halves of the validation pieces that a model of ``config`` reads (its
    meter and grid, :func:`segue.pipeline.pieces.on_grid`), alternating in the split's order:
    ``"calibration"`` (the first, third, ...), whose windows the sampler's calibration matches
    besides the training windows, and ``"choice"`` (the second, fourth, ...), on which models are
    compared. A sampled draw is so never chosen on windows its calibration has read."""
    fitting = [p for p in pieces if on_grid(p, config) is not None]
    return fitting[0::2] if half == "calibration" else fitting[1::2]


def fit_sampler(
    windows: WindowSampler, config: ModelConfig, settings: SamplerConfig, max_transpose: int
) -> VoiceLeadingSampler:
    """The voice-leading sampler with its chain counted on the training pieces (moves into each
    position of the bar, in every transposition up to ``max_transpose``), not yet calibrated."""
    return VoiceLeadingSampler.fit(
        windows.piece_grids(),
        config.voices,
        config.vocab - 2,
        max_transpose,
        positions=config.steps_per_bar,
        strength=settings.strength,
        parallels=settings.parallels,
    )


def calibrate_sampler(
    sampler: VoiceLeadingSampler,
    generator: Generator,
    windows: WindowSampler,
    held_out: Sequence[Piece],
    settings: SamplerConfig,
    seed: int,
    progress: bool = True,
) -> VoiceLeadingSampler | TexturedSampler:
    """The sampler calibrated on continuations of ``calibration_windows`` training windows and of
    every held-out window (the generator writes differently for music it has not seen, as
    users' music will be), untransposed; with ``settings.textures``, apart for each texture of
    context that has at least MIN_TEXTURE_WINDOWS of those windows (a :class:`TexturedSampler`
    when more than one has)."""
    from tqdm import tqdm

    config = generator.config
    order = torch.randperm(len(windows), generator=torch.Generator().manual_seed(seed))
    contexts, reals = windows.windows(order[: settings.calibration_windows])
    try:
        held = WindowSampler(held_out, config, 0)
    except SegueError:  # no held-out piece is long enough
        held = None
    if held is not None:
        more, more_reals = held.windows(torch.arange(len(held)))
        contexts, reals = torch.cat([contexts, more]), torch.cat([reals, more_reals])
    groups = {"all": torch.arange(len(contexts))}
    if settings.textures:
        kinds = textures(contexts)
        found = {name: (kinds == i).nonzero()[:, 0] for i, name in enumerate(TEXTURES)}
        kept = {name: rows for name, rows in found.items() if len(rows) >= MIN_TEXTURE_WINDOWS}
        groups = kept if len(kept) > 1 else groups

    rounds = settings.calibration_rounds
    fitted: dict[str, VoiceLeadingSampler] = {}
    with tqdm(total=rounds * len(groups), disable=not progress, desc="calibrating", unit="round") as bar:

        def report(round_: int, gap: float) -> None:
            bar.update()
            bar.set_postfix({"gap": f"{gap:.3f}"}, refresh=False)

        for name, rows in groups.items():
            these = contexts[rows]

            bias = None  # the key prior of each context, as `segue generate` draws
            if settings.key_strength:
                profiles = key_profiles(these.numpy(), config.lowest, config.steps_per_bar)
                bias = key_biases(profiles, config.lowest, config.vocab, settings.key_strength)

            def draw(
                candidate: VoiceLeadingSampler,
                round_: int,
                these: torch.Tensor = these,
                bias: torch.Tensor | None = bias,
            ) -> np.ndarray:
                rng = torch.Generator().manual_seed(seed + 1 + round_)
                chunks = [
                    continue_tokens(
                        generator,
                        these[i : i + 256],
                        config.continuation_bars,
                        rng,
                        sampler=candidate,
                        bias=None if bias is None else bias[i : i + 256],
                    )
                    for i in range(0, len(these), 256)
                ]
                return torch.cat(chunks).numpy()

            if len(groups) > 1:
                bar.set_description(f"calibrating ({name})")
            fitted[name] = calibrate(
                sampler,
                draw,
                these.numpy(),
                reals[rows].numpy(),
                rounds,
                report=report,
                vertical=settings.vertical,
            )
    return fitted["all"] if "all" in fitted else TexturedSampler(fitted)
