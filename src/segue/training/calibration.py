"""Fitting the sampler at the end of training: the chain counted on the training pieces, then
the calibration on continuations that this model writes of training windows and of the windows
of one half of the validation pieces (:func:`validation_half`).
The sampler's own code (:mod:`segue.sampler`) does the fitting; this module gives it the data
and a way to draw."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from segue.data.splits import work_family
from segue.errors import SegueError
from segue.models import Generator
from segue.models.config import ModelConfig
from segue.music.piece import Piece
from segue.pipeline.pieces import on_grid
from segue.pipeline.sampling import continue_tokens, key_biases, key_profiles
from segue.sampler import SamplerConfig, VoiceLeadingSampler, calibrate
from segue.sampler.rhythm import Choice, RhythmChoice, hazards, strikes
from segue.sampler.styles import StyleReader
from segue.sampler.textured import TEXTURES, TexturedRhythm, TexturedSampler, textures
from segue.training.windows import WindowSampler

READER_WINDOWS = 5000
"""How many training windows (besides the held-out ones) the reader of a context's style is fitted
on (:func:`_style_groups`)."""
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
    compared. A sampled draw is so never chosen on windows its calibration has read.

    Pieces that name their work (``extra["work"]``: the sections of a mass) go to a half by their
    work (:func:`~segue.data.splits.work_family`), the works alternating in the order they first
    come, so that no work has sections in both halves: a calibration that read a mass's Kyrie
    would flatter the draws of its Gloria (2026-12-05: on the masses the choice half ranked the
    general model level with the Palestrina model when the halves shared their masses, and 0.053
    above it, as the test split does, when they did not). The other pieces alternate among
    themselves as before."""
    fitting = [p for p in pieces if on_grid(p, config) is not None]
    side = 0 if half == "calibration" else 1
    works: dict[str, int] = {}
    chosen, others = [], 0
    for piece in fitting:
        work = piece.extra.get("work")
        if work:
            place = works.setdefault(work_family(work), len(works) % 2)
        else:
            place, others = others % 2, others + 1
        if place == side:
            chosen.append(piece)
    return chosen


def fit_sampler(
    windows: WindowSampler,
    config: ModelConfig,
    settings: SamplerConfig,
    max_transpose: int,
    style: str | None = None,
) -> VoiceLeadingSampler:
    """The voice-leading sampler with its chain counted on the training pieces (moves into each
    position of the bar, in every transposition up to ``max_transpose``; only the pieces of
    ``style``, if given), not yet calibrated."""
    return VoiceLeadingSampler.fit(
        windows.piece_grids(style),
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
    max_transpose: int | None = None,
) -> VoiceLeadingSampler | TexturedSampler:
    """The sampler calibrated on continuations of ``calibration_windows`` training windows and of
    every held-out window (the generator writes differently for music it has not seen, as
    users' music will be), untransposed; with ``settings.textures``, apart for each texture of
    context that has at least MIN_TEXTURE_WINDOWS of those windows (a :class:`TexturedSampler`
    when more than one has); with ``settings.rhythm_draws`` above 1, then given the choice among
    that many draws by their rhythm (:func:`fit_rhythm`). With ``settings.styles`` as well, the
    part music is calibrated apart for each style the training pieces name (:func:`_style_groups`),
    each from a chain counted on that style's pieces in every transposition up to
    ``max_transpose`` (:func:`fit_sampler`; without it, from ``sampler``'s chain)."""
    from tqdm import tqdm

    config = generator.config
    order = torch.randperm(len(windows), generator=torch.Generator().manual_seed(seed))
    picked = order[: settings.calibration_windows]
    contexts, reals = windows.windows(picked)
    try:
        held = WindowSampler(held_out, config, 0)
    except SegueError:  # no held-out piece is long enough
        held = None
    if held is not None:
        more, more_reals = held.windows(torch.arange(len(held)))
        contexts, reals = torch.cat([contexts, more]), torch.cat([reals, more_reals])
    groups = {"all": torch.arange(len(contexts))}
    reader = None
    if settings.textures and settings.styles:
        labels = windows.style_of(picked) + ([] if held is None else held.style_of(torch.arange(len(held))))
        reader, by_style = _style_groups(contexts, labels, len(picked), windows, order, config)
        groups = by_style if reader is not None else groups
    if settings.textures and reader is None:
        kinds = textures(contexts)
        found = {name: (kinds == i).nonzero()[:, 0] for i, name in enumerate(TEXTURES)}
        kept = {name: rows for name, rows in found.items() if len(rows) >= MIN_TEXTURE_WINDOWS}
        groups = kept if len(kept) > 1 else groups

    biases = _key_bias(contexts, config, settings)  # each context's own: the same in any group
    rounds = settings.calibration_rounds
    fitted: dict[str, VoiceLeadingSampler] = {}
    with tqdm(total=rounds * len(groups), disable=not progress, desc="calibrating", unit="round") as bar:

        def report(round_: int, gap: float) -> None:
            bar.update()
            bar.set_postfix({"gap": f"{gap:.3f}"}, refresh=False)

        for name, rows in groups.items():
            these = contexts[rows]
            bias = None if biases is None else biases[rows]

            def draw(
                candidate: VoiceLeadingSampler,
                round_: int,
                these: torch.Tensor = these,
                bias: torch.Tensor | None = bias,
            ) -> np.ndarray:
                rng = torch.Generator().manual_seed(seed + 1 + round_)
                return _continuations(generator, these, candidate, bias, rng)

            if len(groups) > 1:
                bar.set_description(f"calibrating ({name})")
            start = sampler
            if reader is not None and max_transpose is not None and name in reader.names:
                start = fit_sampler(windows, config, settings, max_transpose, name)  # its own chain
            fitted[name] = calibrate(
                start,
                draw,
                these.numpy(),
                reals[rows].numpy(),
                rounds,
                report=report,
                vertical=settings.vertical,
                ages=settings.ages,
                together=settings.together,
                chords=settings.chords,
            )
    calibrated = fitted["all"] if "all" in fitted else TexturedSampler(fitted, reader=reader)
    if settings.rhythm_draws > 1:  # the sampler was made here: given its choice in place
        calibrated.rhythm = fit_rhythm(calibrated, generator, contexts, reals, biases, settings, seed, groups)
    return calibrated


def fit_rhythm(
    sampler: VoiceLeadingSampler | TexturedSampler,
    generator: Generator,
    contexts: torch.Tensor,
    reals: torch.Tensor,
    bias: torch.Tensor | None,
    settings: SamplerConfig,
    seed: int,
    groups: dict[str, torch.Tensor] | None = None,
    draws: int = 2,
) -> Choice:
    """The choice among ``settings.rhythm_draws`` draws by their rhythm: the hazards and voices
    striking together of the (B, V, S) ``reals`` continuations of the (B, V, S') ``contexts`` and of
    ``draws`` continuations of each that the calibrated ``sampler`` writes (under the (B, vocab)
    key prior ``bias``, as the calibration drew), the draw whose rhythm the choice corrects; with
    ``groups`` naming the rows of each texture the sampler was calibrated apart for (as
    :func:`calibrate_sampler` made them), counted apart for each of them too."""
    config = generator.config
    rng = torch.Generator().manual_seed(seed + 1000)
    drawn = np.concatenate([_continuations(generator, contexts, sampler, bias, rng) for _ in range(draws)])
    pitches, positions = config.vocab - 2, config.steps_per_bar

    def tables(real: np.ndarray, mine: np.ndarray) -> RhythmChoice:
        return RhythmChoice(
            torch.from_numpy(hazards(real, pitches, positions)),
            torch.from_numpy(hazards(mine, pitches, positions)),
            torch.from_numpy(strikes(real, pitches, positions)),
            torch.from_numpy(strikes(mine, pitches, positions)),
            settings.rhythm_draws,
            settings.rhythm_weight,
        )

    if groups is None or "all" in groups:  # one calibration for every window, as calibrate_sampler reads it
        return tables(reals.numpy(), drawn)
    choices = {}
    for name, rows in groups.items():
        mine = np.concatenate([rows.numpy() + k * len(contexts) for k in range(draws)])
        choices[name] = tables(reals[rows].numpy(), drawn[mine])
    return TexturedRhythm(choices, getattr(sampler, "reader", None))


def _style_groups(
    contexts: torch.Tensor,
    labels: list[str],
    training: int,
    windows: WindowSampler,
    order: torch.Tensor,
    config: ModelConfig,
) -> tuple[StyleReader | None, dict[str, torch.Tensor]]:
    """The reader of the styles of part music that have training pieces and at least
    MIN_TEXTURE_WINDOWS of the calibration ``contexts`` (whose styles are ``labels``; the first
    ``training`` of them training windows, the rest held out), fitted on READER_WINDOWS training
    windows and the held-out ones; and the calibration's groups: melodies, and the part music of
    each of those styles (a window of parts whose piece names another style, or none, goes with
    the style it reads as). None and no groups with fewer than two such styles."""
    texture = textures(contexts)
    parts = texture.nonzero()[:, 0].tolist()
    counts = Counter(labels[i] for i in parts)
    trained = set(windows.piece_styles)  # a style needs training pieces to count its chain on
    names = sorted(n for n, count in counts.items() if n in trained and n and count >= MIN_TEXTURE_WINDOWS)
    if len(names) < 2:
        return None, {}
    every = torch.cat([windows.windows(order[:READER_WINDOWS])[0], contexts[training:]])
    every_labels = windows.style_of(order[:READER_WINDOWS]) + labels[training:]
    keep = [i for i in textures(every).nonzero()[:, 0].tolist() if every_labels[i] in names]
    index = torch.tensor([names.index(every_labels[i]) for i in keep])
    reader = StyleReader.fit(every[keep], index, names, config.steps_per_bar)
    read = dict(zip(parts, reader(contexts[parts]).tolist()))
    melody = (texture == 0).nonzero()[:, 0]
    groups = {"melody": melody} if len(melody) >= MIN_TEXTURE_WINDOWS else {}
    for k, name in enumerate(names):
        rows = [i for i in parts if labels[i] == name or (labels[i] not in names and read[i] == k)]
        groups[name] = torch.tensor(rows, dtype=torch.long)
    return reader, groups


def _key_bias(contexts: torch.Tensor, config: ModelConfig, settings: SamplerConfig) -> torch.Tensor | None:
    """(B, vocab) the key prior of each context that the calibration draws under, as ``segue
    generate`` draws (None without one)."""
    if not settings.key_strength:
        return None
    profiles = key_profiles(contexts.numpy(), config.lowest, config.steps_per_bar)
    return key_biases(profiles, config.lowest, config.vocab, settings.key_strength)


def _continuations(
    generator: Generator,
    contexts: torch.Tensor,
    sampler: VoiceLeadingSampler | TexturedSampler,
    bias: torch.Tensor | None,
    rng: torch.Generator,
) -> np.ndarray:
    """(B, V, S) one chunk continued from each of the (B, V, S') contexts, 256 at a time."""
    chunks = [
        continue_tokens(
            generator,
            contexts[i : i + 256],
            generator.config.continuation_bars,
            rng,
            sampler=sampler,
            bias=None if bias is None else bias[i : i + 256],
        )
        for i in range(0, len(contexts), 256)
    ]
    return torch.cat(chunks).numpy()
