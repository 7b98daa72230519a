"""scripts/ship_model.py: a trained folder ships whole, replacing the old one, or not at all."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ship_model.py"


def _script(assets: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("ship_model", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ASSETS", assets)
    return module


def _ship(module: ModuleType, monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["ship_model.py", *args])
    module.main()


def test_a_model_ships_whole_and_replaces_every_file_of_the_old_folder(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assets = tmp_path / "src" / "segue" / "assets"
    old = assets / "models" / "tiny"
    (old / "sampler").mkdir(parents=True)
    (old / "sampler" / "sampler.safetensors").write_bytes(b"another network's sampler")
    (old / "config.json").write_text(json.dumps({"style": "chorales", "description": "the old one"}))
    module = _script(assets, monkeypatch)
    _ship(module, monkeypatch, str(tiny_model), "tiny", "--description", "a tiny one", "--init", "src/x")
    assert not (old / "sampler").exists()  # the new folder has none: the old one's is not kept
    assert sorted(p.name for p in old.iterdir()) == sorted(p.name for p in tiny_model.iterdir())
    config = json.loads((old / "config.json").read_text())
    assert config["style"] == "chorales" and config["description"] == "a tiny one"  # kept, given
    assert config["train"]["init"] == "src/x"
    assert not list(old.parent.glob(".tiny.*"))  # no staging folder left


def test_a_gan_without_its_sampler_is_refused_and_nothing_is_replaced(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "run" / "model"
    shutil.copytree(tiny_model, source)
    config = json.loads((source / "config.json").read_text())
    config.update(method="gan", sampler={"strength": 1.0})
    (source / "config.json").write_text(json.dumps(config))
    assets = tmp_path / "src" / "segue" / "assets"
    module = _script(assets, monkeypatch)
    with pytest.raises(SystemExit, match="no sampler/ folder"):
        _ship(module, monkeypatch, str(source), "tiny")
    assert not (assets / "models").exists()
