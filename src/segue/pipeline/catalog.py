"""The models that ship inside the package, and the rule that picks one for a file.

Every folder under ``assets/models/`` is a model folder whose config.json also names its
``style`` (the music it learned) and a one-line ``description``. A file is continued by the
shipped model of its meter in the style asked for, else of its texture (a melody model for a
single melodic line, a model of several voices otherwise; the chorales first); a meter no
shipped model knows is an error that lists the meters there are.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from segue.errors import MidiError, SegueError
from segue.models.config import ModelConfig
from segue.pipeline.model import SegueModel, load_model, read_config
from segue.sampler import PlainSampler

DEFAULT_STYLE = "chorales"
"""The style chosen when none is asked for and the file's meter has a model in it."""
SHIPPED_STEPS_PER_BEAT = 4
"""The grid of every shipped model (a file is read on it before its model is chosen)."""


def shipped_dir() -> Path:
    """The folder that holds the shipped model folders."""
    return Path(str(resources.files("segue") / "assets" / "models"))


@dataclass(frozen=True)
class Entry:
    """One shipped model: its folder and what the rule reads of it."""

    name: str
    path: Path
    style: str
    description: str
    config: ModelConfig

    @property
    def meter(self) -> str:
        """The meter the model knows."""
        return self.config.meter

    @property
    def voices(self) -> int:
        """The voices it writes."""
        return self.config.voices


def shipped_models(folder: Path | None = None) -> list[Entry]:
    """The shipped models (or those in ``folder``, a folder of model folders), by style and meter."""
    entries = []
    for path in sorted(p for p in (folder or shipped_dir()).iterdir() if (p / "config.json").is_file()):
        config, info = read_config(path)
        entries.append(
            Entry(
                name=path.name,
                path=path,
                style=str(info.get("style", path.name)),
                description=str(info.get("description", "")),
                config=config,
            )
        )
    return sorted(entries, key=lambda e: (e.style, _meter_order(e.meter), e.name))


def _meter_order(meter: str) -> tuple[int, int]:
    numerator, denominator = (int(x) for x in meter.split("/"))
    return denominator, numerator


@dataclass(frozen=True)
class Choice:
    """The model picked for a file, and why (printed by ``segue generate``)."""

    entry: Entry
    reason: str


def choose_model(
    meter: str,
    style: str | None = None,
    label: str = "<file>",
    folder: Path | None = None,
    melody: bool = False,
) -> Choice:
    """The shipped model for a file in ``meter``: the one of the style asked for; else one whose
    texture fits (one voice for a single melodic line, ``melody``; several voices for anything
    else), of the default style first; else any of the meter. A style or meter no shipped model
    has is an error that says which there are."""
    return _choose(shipped_models(folder), meter, style, label, melody)


def _choose(entries: list[Entry], meter: str, style: str | None, label: str, melody: bool) -> Choice:
    """:func:`choose_model` among ``entries``."""
    styles = sorted({e.style for e in entries})
    if style is not None and style not in styles:
        raise SegueError(f"--style {style}: no such style; the shipped styles are {', '.join(styles)}")
    fits = [e for e in entries if e.meter == meter]
    if not fits:
        known = ", ".join(sorted({e.meter for e in entries}, key=_meter_order))
        raise MidiError(label, f"is in {meter}; the shipped models know {known} (segue models lists them)")
    if style is not None:
        asked = [e for e in fits if e.style == style]
        if not asked:
            others = ", ".join(sorted({e.style for e in fits}))
            raise MidiError(label, f"is in {meter}, which no {style} model knows (try --style {others})")
        return Choice(asked[0], f"style {style} asked for, the file is in {meter}")
    texture = "a melody" if melody else "several parts"
    textured = [e for e in fits if (e.voices == 1) == melody]
    pool = textured or fits
    chosen = next((e for e in pool if e.style == DEFAULT_STYLE), pool[0])
    why = f"{texture} in {meter}" + ("" if textured else f"; no {meter} model for {texture}")
    return Choice(chosen, f"{why}; style {chosen.style}")


def find_shipped(name: str) -> Entry | None:
    """The shipped model of that name, if there is one."""
    return next((e for e in shipped_models() if e.name == name), None)


def model_path(value: str) -> Path:
    """A ``--model`` value: the folder of the shipped model of that name, else a path."""
    entry = find_shipped(value) if "/" not in value and not Path(value).exists() else None
    return entry.path if entry is not None else Path(value)


class Shelf:
    """Shipped models loaded once each, when first chosen (the studio keeps one for its life).
    Thread-safe: the studio's workers may ask for the same model at once."""

    def __init__(self, style: str | None = None, plain: bool = False, folder: Path | None = None) -> None:
        """``plain``: the models draw every cell on their own, without their samplers; ``folder``:
        a folder of model folders instead of the shipped ones."""
        self.style, self.plain, self.folder = style, plain, folder
        self.entries = shipped_models(folder)  # read once: the shelf's catalog
        self._loaded: dict[str, SegueModel] = {}
        self._lock = threading.Lock()

    def model_for(self, meter: str, label: str = "<file>", melody: bool = False) -> tuple[SegueModel, Choice]:
        """The loaded model for a file in ``meter`` (a single melodic line: ``melody``), and the choice."""
        choice = _choose(self.entries, meter, self.style, label, melody)
        with self._lock:
            model = self._loaded.get(choice.entry.name)
            if model is None:
                model = self._loaded[choice.entry.name] = load_model(choice.entry.path)
                if self.plain:
                    model.sampler = PlainSampler()
        return model, choice


__all__ = [
    "DEFAULT_STYLE",
    "SHIPPED_STEPS_PER_BEAT",
    "Choice",
    "Entry",
    "Shelf",
    "choose_model",
    "find_shipped",
    "model_path",
    "shipped_models",
]
