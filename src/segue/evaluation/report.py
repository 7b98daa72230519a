"""The evaluation driver and its report.

:func:`evaluate` runs every system (:mod:`segue.evaluation.systems` and the baselines) on
every test window (:mod:`segue.evaluation.windows`), scores them
(:mod:`segue.evaluation.scores`) and runs the classifier two-sample test
(:mod:`segue.evaluation.twosample`); :class:`Report` holds the table of means and what else
the report shows, and :func:`render_markdown` writes the report's document as Markdown.
"""

from __future__ import annotations

import copy
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from segue import metrics
from segue.evaluation.baselines import repeat_prime
from segue.evaluation.critic import critic_accuracy, roll_features
from segue.evaluation.scores import METRICS, TABLES, score_harmony, score_system
from segue.evaluation.systems import Continuer, markov_system, model_system
from segue.evaluation.twosample import classifier_accuracy, named_pair_features, pair_features, telltales
from segue.evaluation.windows import Windows, other_piece, test_windows
from segue.models.config import ModelConfig
from segue.music.piece import Piece
from segue.music.tokens import FIRST_PITCH
from segue.pipeline.model import SegueModel
from segue.pipeline.pieces import as_voices, complete_bar_tokens
from segue.sampler import PlainSampler
from segue.sampler.config import KEY_STRENGTH

PLAIN = "plain G"
"""The system name of the GAN's generator drawing each note on its own, without the sampler."""


@dataclass
class Report:
    """The table (system -> metric -> value) and what else the report shows."""

    table: dict[str, dict[str, float]]
    continuations: dict[str, np.ndarray]
    primes: np.ndarray
    bar_stats: dict[str, dict[str, list[float]]]  # system -> per-bar statistic -> values
    telltales: dict[str, list[str]]  # system -> the features that give it away most
    owners: np.ndarray  # the test piece of each window

    @property
    def windows(self) -> int:
        """How many test windows were scored."""
        return len(self.owners)

    @property
    def pieces(self) -> int:
        """How many test pieces they come from."""
        return len(np.unique(self.owners))


def training_grids(pieces: Sequence[Piece], config: ModelConfig) -> list[np.ndarray]:
    """The (V, S) token grids of the training ``pieces`` in the model's meter and grid, as the
    Markov baseline learns them and the copy count reads them: each up to its last complete bar,
    as the models' training windows are cut (a final bar cut short by a pickup would teach the
    chain to end on rests)."""
    return [
        complete_bar_tokens(as_voices(p, config), config)
        for p in pieces
        if str(p.meter) == config.meter and p.steps_per_beat == config.steps_per_beat
    ]


def evaluate(
    model: SegueModel,
    test_pieces: Sequence[Piece],
    train_pieces: Sequence[Piece],
    *,
    prime_bars: int = 4,
    bars: int = 4,
    per_piece: int = 3,
    stride: int | None = None,
    seeds: int = 2,
    seed: int = 0,
    others: dict[str, Continuer] | None = None,
    temperature: float = 1.0,
    key_strength: float = KEY_STRENGTH,
    critic_seeds: int = 5,
    progress: bool = False,
) -> Report:
    """Every system on every test window; returns the table of means.

    ``others`` adds systems to compare, by name (the conditional VAE, the LSTM); a model
    with the voice-leading sampler is also run without it (:data:`PLAIN`, G's own draw); each
    generative system is run with ``seeds`` seeds for the diversity columns, and its
    first seed's continuations are scored. The learned critic is trained with ``critic_seeds``
    seeds for each system (0: not at all); for a generative system seed k reads its draw of
    ``seed + k``, so that the critic's spread holds the draw's (one draw moved the chorale
    model's figure by up to 0.07 on the test windows). ``key_strength``: the model and plain G
    draw under the key prior of each prime's last bars, as ``segue generate`` does (by default
    at its strength, :data:`~segue.sampler.config.KEY_STRENGTH`; 0: the draw without the prior).
    ``progress`` shows a bar over the systems on stderr.
    """
    from tqdm import tqdm

    config = model.config
    windows = test_windows(test_pieces, model, prime_bars, bars, per_piece, stride)
    train_grids = training_grids(train_pieces, config)
    markov_run = markov_system(train_grids, bars, config.steps_per_bar)
    steps = bars * config.steps_per_bar
    gan = model_system(model, bars, temperature, key_strength)
    generative: dict[str, Continuer] = {"GAN": gan, "Markov": markov_run}
    if not isinstance(model.sampler, PlainSampler):  # the network's own draw, beside the sampler's
        others = {PLAIN: model_system(_plain(model), bars, temperature, key_strength), **(others or {})}
    generative.update(others or {})
    outputs = {
        "GAN": generative["GAN"](windows.primes, seed),
        "Bach (real)": windows.reals,
        "repeat prime": np.stack([repeat_prime(p, steps) for p in windows.primes]),
        "other piece": other_piece(windows, config.lowest, config.vocab),
        "other piece, untransposed": other_piece(windows, config.lowest, config.vocab, transpose=False),
        "Markov": markov_run(windows.primes, seed),
    }
    for name, system in (others or {}).items():
        outputs[name] = system(windows.primes, seed)
        if outputs[name].shape != windows.reals.shape:
            raise ValueError(
                f"{name}: continuations of shape {outputs[name].shape}, not {windows.reals.shape}"
            )
    # the diversity columns read the first ``seeds`` draws, the critic the first ``critic_seeds``
    drawn = max(seeds, critic_seeds)
    extra_seeds = {
        name: [system(windows.primes, seed + k) for k in range(1, drawn)]
        for name, system in generative.items()
    }
    train_bars = [metrics.bar_keys(g, config.steps_per_bar, relative=True) for g in train_grids]
    train_set = {bar for piece in train_bars for bar in piece}
    formulas = metrics.formula_bars(train_bars)
    apart = windows.starts % bars == 0  # windows whose continuations do not overlap
    lowest, bar_steps = config.lowest, config.steps_per_bar
    real_named = [named_pair_features(p, c, lowest, bar_steps) for p, c in zip(windows.primes, windows.reals)]
    names = list(real_named[0])
    real_features = np.array([list(features.values()) for features in real_named])
    reference = score_system(windows, windows.reals, lowest)
    halves = windows.pieces % 2 == 0  # real pairs of half the pieces against those of the other half
    bach_harmony = score_harmony(windows.reals, lowest, bar_steps)
    pitches = config.vocab - FIRST_PITCH
    real_rolls = roll_features(windows.primes, windows.reals, pitches) if critic_seeds else None
    table: dict[str, dict[str, float]] = {}
    bar_stats: dict[str, dict[str, list[float]]] = {}
    tells: dict[str, list[str]] = {}
    bar = tqdm(outputs.items(), desc="scoring", unit="system", disable=not progress, file=sys.stderr)
    for name, continuations in bar:
        bar.set_postfix_str(name)
        scores = reference if name == "Bach (real)" else score_system(windows, continuations, lowest)
        row = {metric: scores.mean(metric) for metric in scores.values}
        for stat, values in scores.bar_stats.items():
            row[f"overlap: {stat}"] = metrics.overlap_area(
                np.array(values), np.array(reference.bar_stats[stat])
            )
        keys = [metrics.bar_keys(c, bar_steps, relative=True) for c in continuations]
        row["copied bars"] = float(np.mean([metrics.copied_bar_rate(k, train_set, formulas) for k in keys]))
        row["formula bars"] = float(np.mean([[bar in formulas for bar in k] for k in keys]))
        row["longest copied span"] = float(max(metrics.longest_copied_span(k, train_bars) for k in keys))
        row["distinct bars"] = metrics.distinct_rate(
            [bar for k, keep in zip(keys, apart) if keep for bar in k]
        )
        if seeds > 1 and extra_seeds.get(name):
            runs = [continuations, *extra_seeds[name][: seeds - 1]]
            pairs = list(itertools.pairwise(runs))
            row["differs across seeds"] = float(np.mean([(x != y).any(axis=(1, 2)).mean() for x, y in pairs]))
            row["seed difference"] = float(
                np.mean([metrics.token_difference(x[i], y[i]) for x, y in pairs for i in range(len(x))])
            )
        bar_stats[name] = scores.bar_stats
        row.update(score_harmony(continuations, lowest, bar_steps).row(bach_harmony))
        if real_rolls is not None:
            if name in extra_seeds:  # a generative system: critic seed k on its draw of seed k
                draws = [continuations, *extra_seeds[name]][:critic_seeds]
                accuracies = seeded_critic(real_rolls, windows, draws, config.voices, pitches, seed)
            else:
                accuracies = critic_accuracies(
                    real_rolls,
                    windows,
                    continuations,
                    halves if name == "Bach (real)" else None,
                    config.voices,
                    pitches,
                    critic_seeds,
                    seed,
                )
            row["learned critic"], row["learned critic sd"] = (
                float(np.mean(accuracies)),
                float(np.std(accuracies)),
            )
        if name == "Bach (real)":
            row["classifier accuracy"] = classifier_accuracy(
                real_features[halves],
                real_features[~halves],
                seed=seed,
                real_groups=windows.groups[halves],
                fake_groups=windows.groups[~halves],
            )
        else:
            features = np.stack(
                [pair_features(p, c, lowest, bar_steps) for p, c in zip(windows.primes, continuations)]
            )
            row["classifier accuracy"] = classifier_accuracy(
                real_features, features, seed=seed, real_groups=windows.groups, fake_groups=windows.groups
            )
            tells[name] = telltales(real_features, features, names)
        table[name] = row
    return Report(table, outputs, windows.primes, bar_stats, tells, windows.pieces)


def _plain(model: SegueModel) -> SegueModel:
    """The model drawing every cell on its own from G's softmax (the same weights)."""
    plain = copy.copy(model)
    plain.sampler = PlainSampler()
    return plain


def critic_accuracies(
    real: torch.Tensor,
    windows: Windows,
    continuations: np.ndarray,
    halves: np.ndarray | None,
    voices: int,
    pitches: int,
    seeds: int,
    seed: int,
) -> list[float]:
    """The learned critic's accuracy with each seed: Bach's real pairs against this system's, or,
    for Bach (given ``halves``, the windows of half the pieces), the real pairs of one half
    against those of the other."""
    prime_steps = windows.primes.shape[2]
    if halves is not None:
        groups = windows.groups[halves], windows.groups[~halves]
        return [
            critic_accuracy(real[halves], real[~halves], *groups, voices, prime_steps, seed + k)
            for k in range(seeds)
        ]
    fake = roll_features(windows.primes, continuations, pitches)
    folds = windows.groups  # a piece and the one lending it "other piece" share a fold
    return [critic_accuracy(real, fake, folds, folds, voices, prime_steps, seed + k) for k in range(seeds)]


def seeded_critic(
    real: torch.Tensor, windows: Windows, draws: list[np.ndarray], voices: int, pitches: int, seed: int
) -> list[float]:
    """The learned critic's accuracy with seed ``seed + k`` on a system's k-th draw, for each of
    ``draws``: the spread over seeds then holds the draw's too."""
    return [
        critic_accuracies(real, windows, draw, None, voices, pitches, 1, seed + k)[0]
        for k, draw in enumerate(draws)
    ]


def render_markdown(document: dict) -> str:  # type: ignore[type-arg]
    """The report as Markdown: tables with a row per system and a column per metric."""
    table = document["table"]
    columns: list[str] = []
    for row in table.values():
        columns += [c for c in row if c not in columns]
    lines = [
        f"# segue evaluate: {document['model']} model",
        "",
        f"{document['windows']} windows from {document['pieces']} pieces of {document['data']}; "
        f"{document['prime_bars']} bars of prime, {document['bars']} bars continued; "
        f"the GAN sampled at temperature {document.get('temperature', 1.0):g}"
        + (
            f" under the key prior of strength {document['key_strength']:g} (as `segue generate` draws), "
            if document.get("key_strength")
            else ", "
        )
        + _lines_text(document.get("line_prior"))
        + (f"; seed {document['seed']}" if document.get("seed") else "")
        + ".",
        "",
    ]
    for key, title in [*TABLES.items(), ("other", "Other")]:
        chosen = [c for c in columns if METRICS.get(c, ("other", ""))[0] == key]
        if not chosen:
            continue
        lines += [
            f"## {title}",
            "",
            "| system | " + " | ".join(chosen) + " |",
            "| --- | " + " | ".join("---:" for _ in chosen) + " |",
        ]
        for system, row in table.items():
            cells = [f"{row[c]:.3f}" if c in row else "" for c in chosen]
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
        lines.append("")
    if document.get("telltales"):
        lines += [
            "## What gives each system away",
            "",
            "The features that weigh most in the classifier telling the system from Bach "
            "(higher or lower than in Bach's continuations):",
            "",
        ]
        lines += [f"- **{system}**: {'; '.join(tells)}" for system, tells in document["telltales"].items()]
        lines.append("")
    lines += ["## What the columns are", ""]
    lines += [f"- **{name}**: {METRICS[name][1]}" for name in columns if name in METRICS]
    return "\n".join(lines) + "\n"


def _lines_text(lines: object) -> str:
    if not isinstance(lines, dict):
        return "every note drawn on its own (no voice-leading prior)"
    calibrated = ", calibrated" if lines.get("calibrated") else ""
    return (
        f"each voice's line drawn with the voice-leading prior (strength {lines['strength']:g}, "
        f"parallel fifths and octaves weighed down by e^{lines['parallels']:g}{calibrated}); "
        f"{PLAIN}: the same generator, every note drawn on its own"
    )
