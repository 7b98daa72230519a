"""The sampler's section of a model folder: ``sampler/config.json`` (its kind and settings) and
``sampler/sampler.safetensors`` (the chain's potentials and the calibration's weights). A folder
without the section is sampled plainly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from segue.errors import SegueError
from segue.sampler.base import PlainSampler, Sampler
from segue.sampler.calibration import GROUPS, OPTIONAL, Calibration
from segue.sampler.voiceleading import VoiceLeadingSampler
from segue.weights import read_document, read_weights

SECTION = "sampler"
"""The section's subfolder in a model folder."""
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "sampler.safetensors"
KIND = "voice-leading"


def sampler_files(sampler: Sampler) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """The tensors and the document of a sampler's section, or None for the plain sampler."""
    if not isinstance(sampler, VoiceLeadingSampler):
        return None
    tensors = {"potentials": sampler.potentials}
    if sampler.calibration is not None:
        tensors.update({f"calibration.{k}": v for k, v in sampler.calibration.tensors().items()})
    document = {"kind": KIND, "strength": sampler.strength, "parallels": sampler.parallels}
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
    size = 2 * pitches + 1
    shapes = ((voices, 1, size, size), (voices, positions, size, size))
    if potentials is None or tuple(potentials.shape) not in shapes:
        found = "none" if potentials is None else tuple(potentials.shape)
        raise SegueError(f"{weights_path}: potentials must have shape {shapes[1]}, not {found}")
    groups = {k.removeprefix("calibration."): v for k, v in tensors.items()}
    if groups and not set(GROUPS) <= set(groups) <= {*GROUPS, *OPTIONAL}:
        raise SegueError(
            f"{weights_path}: the calibration needs {', '.join(GROUPS)}, has {', '.join(sorted(groups))}"
        )
    try:
        calibration = Calibration(**groups) if groups else None
        return VoiceLeadingSampler(
            potentials,
            strength=float(document.get("strength", 1.0)),
            parallels=float(document.get("parallels", 5.0)),
            calibration=calibration,
        )
    except (TypeError, ValueError) as error:
        raise SegueError(f"{section}: bad sampler settings or weights ({error})") from None
