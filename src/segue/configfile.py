"""The configs' codec: dataclasses from and to plain dicts, TOML in and out, and the check
every config's ``__post_init__`` uses. The configs live beside the layer they configure:
:class:`segue.models.config.ModelConfig`, :class:`segue.sampler.config.SamplerConfig`,
:class:`segue.training.config.TrainConfig`.

Every field has a docstring (the text below it), which the CLI and the docs reuse.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from segue.errors import SegueError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

T = TypeVar("T")


def require(condition: bool, message: str) -> None:
    """Raise a one-line config error unless ``condition`` holds."""
    if not condition:
        raise SegueError(f"config: {message}")


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config") -> T:
    """Build a config dataclass from a dict, refusing unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise SegueError(f"{where}: expected a table of settings")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SegueError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    values = {}
    defaults = cls()
    for name, value in data.items():
        default = getattr(defaults, name)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise SegueError(f"{where}: {name} must be {type(default).__name__}, not {type(value).__name__}")
        values[name] = value
    return cls(**values)


def to_dict(config: Any) -> dict[str, Any]:
    """A config as a plain dict (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def toml_dumps(tables: dict[str, dict[str, Any]]) -> str:
    """Write tables of scalars and lists of scalars as TOML."""
    lines = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    return "\n".join(lines)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, with a one-line error if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SegueError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SegueError(f"{path}: not valid TOML ({error})") from None
