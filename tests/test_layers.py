"""The layers import only downwards: a module may import its own layer and the layers below,
never one above. Read from every module's imports with ``ast`` (lazy imports inside functions
and ``TYPE_CHECKING`` blocks count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "segue"

LAYERS = [
    ("version", "errors", "files", "configfile", "weights"),  # no segue imports but these
    ("music", "metrics", "harmony"),  # no torch
    ("data",),
    ("models",),
    ("sampler",),
    ("pipeline",),
    ("training",),
    ("render",),
    ("evaluation", "studio"),
    ("commands",),
    ("cli", "__main__", "__init__"),
]
"""Bottom to top; a name is a package or a module directly under segue/."""

RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def layer_of(module: str) -> int:
    """The layer of ``segue.x.y`` (its first part after segue), or of the root package."""
    parts = module.split(".")
    return RANK["__init__"] if len(parts) == 1 else RANK[parts[1]]


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def segue_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of segue in a file, absolute or relative."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "segue"]
        elif isinstance(node, ast.ImportFrom) and node.module == "segue":  # from segue import x
            found += [
                (node.lineno, f"segue.{a.name}") if f"{a.name}" in RANK else (node.lineno, "segue")
                for a in node.names
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "segue":
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: relative import")
    return found


FILES = sorted(SRC.rglob("*.py"))


def test_every_package_has_a_layer():
    names = {p.relative_to(SRC).parts[0].removesuffix(".py") for p in FILES}
    assert names <= set(RANK), f"no layer for {sorted(names - set(RANK))}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_downwards(path: Path):
    here = module_name(path)
    own = layer_of(here) if here != "segue" else RANK["__init__"]
    upward = [
        f"{path.relative_to(SRC)}:{line} imports {target}"
        for line, target in segue_imports(path)
        if layer_of(target) > own
    ]
    assert not upward, "; ".join(upward)


def test_the_music_layer_does_not_import_torch():
    for path in FILES:
        if layer_of(module_name(path)) <= RANK["music"]:
            modules = {
                n.names[0].name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Import)
            }
            modules |= {
                n.module or "" for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom)
            }
            if path.name == "weights.py":  # the model-file reader of the base layer
                continue
            assert not any(m.split(".")[0] in ("torch", "safetensors") for m in modules), path


def test_the_check_finds_an_upward_import(tmp_path: Path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from segue.training.trainer import Trainer\n")
    assert segue_imports(bad) == [(2, "segue.training.trainer")]
    assert layer_of("segue.training.trainer") > layer_of("segue.models.generator")
