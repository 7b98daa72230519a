"""The sampler's section of a model folder: ``sampler/config.json`` (its kind and settings) and
``sampler/sampler.safetensors``:

* the chain's ``potentials`` and the calibration's weights ``calibration.GROUP``;
* for a sampler calibrated apart for each kind of context (listed under ``textures`` in the
  config), ``calibration.KIND.GROUP``, and ``potentials.KIND`` for a kind whose chain differs
  from the first kind's;
* for one calibrated apart for the part music of each style, the reader of a context's style:
  ``styles.weight``, ``styles.bias``, ``styles.mean`` and ``styles.scale``, its styles' names
  under ``styles`` in the config;
* with a choice among draws by their rhythm, its tables ``rhythm.real``, ``rhythm.drawn``,
  ``rhythm.real_strikes`` and ``rhythm.drawn_strikes`` (or ``rhythm.KIND.real`` ... for tables
  counted apart for each kind), and ``rhythm_draws`` and ``rhythm_weight`` in the config.

A folder without the section is sampled plainly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from segue.errors import SegueError
from segue.sampler.base import PlainSampler, Sampler
from segue.sampler.calibration import GROUPS, OPTIONAL, Calibration
from segue.sampler.config import SamplerConfig
from segue.sampler.rhythm import Choice, RhythmChoice
from segue.sampler.styles import StyleReader
from segue.sampler.textured import TexturedRhythm, TexturedSampler, kind_names
from segue.sampler.voiceleading import VoiceLeadingSampler
from segue.weights import read_document, read_weights

SECTION = "sampler"
"""The section's subfolder in a model folder."""
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "sampler.safetensors"
KIND = "voice-leading"


def sampler_files(sampler: Sampler) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """The tensors and the document of a sampler's section, or None for the plain sampler."""
    reader: dict[str, torch.Tensor] = {}
    if isinstance(sampler, TexturedSampler):  # one chain, a calibration per kind of context
        parts = [(f"{name}.", one) for name, one in sampler.samplers.items()]
        textured: dict[str, Any] = {"textures": list(sampler.samplers)}
        if sampler.reader is not None:
            textured["styles"] = sampler.reader.names
            reader = {f"styles.{k}": v for k, v in sampler.reader.tensors().items()}
    elif isinstance(sampler, VoiceLeadingSampler):
        parts, textured = [("", sampler)], {}
    else:
        return None
    tensors = {"potentials": sampler.potentials, **reader}
    for prefix, one in parts:
        if not torch.equal(one.potentials, sampler.potentials):  # a chain of its own
            tensors[f"potentials.{prefix.rstrip('.')}"] = one.potentials
        if one.calibration is not None:
            tensors.update({f"calibration.{prefix}{k}": v for k, v in one.calibration.tensors().items()})
    document = {"kind": KIND, "strength": sampler.strength, "parallels": sampler.parallels, **textured}
    if sampler.rhythm is not None:
        tensors.update({f"rhythm.{k}": v for k, v in sampler.rhythm.tensors().items()})
        document.update(rhythm_draws=sampler.rhythm.draws, rhythm_weight=sampler.rhythm.weight)
    return tensors, document


def load_sampler(folder: Path, voices: int, positions: int, pitches: int) -> Sampler:
    """The sampler of a model folder, checked against the model's voices, positions in the bar
    and pitches; the plain sampler if the folder has no sampler section."""
    section = folder / SECTION
    if not section.exists():
        return PlainSampler()
    document = read_document(section / CONFIG_NAME)
    if document.get("kind") != KIND:
        raise SegueError(f"{section / CONFIG_NAME}: unknown sampler kind {document.get('kind')!r}")
    weights_path = section / WEIGHTS_NAME
    tensors = read_weights(weights_path)
    potentials = tensors.pop("potentials", None)
    own = {
        k.removeprefix("potentials."): tensors.pop(k) for k in list(tensors) if k.startswith("potentials.")
    }
    size = 2 * pitches + 1
    shapes = ((voices, 1, size, size), (voices, positions, size, size))
    if potentials is None or tuple(potentials.shape) not in shapes:
        found = "none" if potentials is None else tuple(potentials.shape)
        raise SegueError(f"{weights_path}: potentials must have shape {shapes[1]}, not {found}")
    reader = _reader(document, tensors, positions, section)
    names = document.get("textures")
    allowed = kind_names(reader)
    if names is not None and (
        not isinstance(names, list) or not names or not set(map(str, names)) <= allowed
    ):
        raise SegueError(f"{section / CONFIG_NAME}: textures must be a list of {', '.join(sorted(allowed))}")
    prefixes = [""] if names is None else [f"{name}." for name in names]
    hazards = {k.removeprefix("rhythm."): tensors.pop(k) for k in list(tensors) if k.startswith("rhythm.")}
    unknown = [k for k in tensors if not any(_group_of(k, prefix) for prefix in prefixes)]
    if unknown:
        raise SegueError(f"{weights_path}: unknown tensors {', '.join(sorted(unknown)[:3])}")
    try:
        strength = float(document.get("strength", 1.0))
        parallels = float(document.get("parallels", 5.0))
        rhythm = _rhythm(hazards, document, weights_path, reader)
        if names is None:
            if own:
                raise ValueError(f"a sampler of one calibration has no chains of its own ({', '.join(own)})")
            return VoiceLeadingSampler(
                potentials, strength, parallels, _calibration(tensors, "", weights_path), rhythm
            )
        if not set(own) <= set(names) or any(p.shape != potentials.shape for p in own.values()):
            raise ValueError(
                f"chains of their own must be named from {', '.join(names)}, shaped as potentials"
            )
        textured = {
            name: VoiceLeadingSampler(
                own.get(name, potentials),
                strength,
                parallels,
                _calibration(tensors, f"{name}.", weights_path),
            )
            for name in names
        }
        return TexturedSampler(textured, rhythm, reader)
    except (TypeError, ValueError) as error:
        raise SegueError(f"{section}: bad sampler settings or weights ({error})") from None


def _reader(
    document: dict[str, Any], tensors: dict[str, torch.Tensor], positions: int, section: Path
) -> StyleReader | None:
    """The reader of a context's style that a sampler's section stores (``styles`` in its config,
    its tensors under ``styles.``; taken out of ``tensors``), None if none."""
    found = {k.removeprefix("styles."): tensors.pop(k) for k in list(tensors) if k.startswith("styles.")}
    names = document.get("styles")
    if names is None and not found:
        return None
    if not isinstance(names, list) or set(found) != {"weight", "bias", "mean", "scale"}:
        raise SegueError(
            f"{section}: a style reader needs styles in its config and styles.weight, .bias, .mean, .scale"
        )
    try:
        return StyleReader(names, found["weight"], found["bias"], found["mean"], found["scale"], positions)
    except ValueError as error:
        raise SegueError(f"{section}: bad style reader ({error})") from None


def _rhythm(
    hazards: dict[str, torch.Tensor], document: dict[str, Any], path: Path, reader: StyleReader | None
) -> Choice | None:
    """The choice among draws by their rhythm that a sampler's section stores (its tables under
    ``rhythm.``, or under ``rhythm.TEXTURE.`` for each texture), None if none."""
    if not hazards and "rhythm_draws" not in document:
        return None
    names = ("real", "drawn", "real_strikes", "drawn_strikes")
    textured = sorted({key.partition(".")[0] for key in hazards if "." in key})
    allowed = kind_names(reader)
    groups = [f"{name}." for name in textured] if textured else [""]
    expected = {f"{group}{name}" for group in groups for name in names}
    if set(hazards) != expected or not set(textured) <= allowed or "rhythm_draws" not in document:
        wanted = ", ".join(f"rhythm.[TEXTURE.]{name}" for name in names)
        raise SegueError(f"{path}: a rhythm choice needs {wanted} and rhythm_draws")
    weight = float(document.get("rhythm_weight", SamplerConfig.rhythm_weight))
    draws = int(document["rhythm_draws"])
    choices = {}
    for group in groups:
        real, drawn, real_strikes, drawn_strikes = (hazards[f"{group}{name}"] for name in names)
        choices[group.rstrip(".")] = RhythmChoice(real, drawn, real_strikes, drawn_strikes, draws, weight)
    return TexturedRhythm(choices, reader) if textured else choices[""]


def _calibration(tensors: dict[str, torch.Tensor], prefix: str, path: Path) -> Calibration | None:
    """The calibration stored under ``calibration.PREFIX``, None if there is none."""
    groups = {_group_of(k, prefix): v for k, v in tensors.items() if _group_of(k, prefix)}
    if groups and not set(GROUPS) <= set(groups) <= {*GROUPS, *OPTIONAL}:
        raise SegueError(
            f"{path}: the calibration {prefix}needs {', '.join(GROUPS)}, has {', '.join(sorted(groups))}"
        )
    return Calibration(**groups) if groups else None


def _group_of(key: str, prefix: str) -> str:
    """The group a tensor named ``calibration.PREFIX GROUP`` holds ("" for any other name)."""
    start = f"calibration.{prefix}"
    group = key.removeprefix(start)
    return group if key.startswith(start) and "." not in group else ""
