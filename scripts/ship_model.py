"""Ship a trained model folder inside the package: the whole folder (network, config and the
sampler's folder) replaces ``src/segue/assets/models/NAME`` (or ``assets/baselines/NAME`` with
``--baseline``), so that a network never ships with another network's sampler; config.json gets
the style, description and training time the catalog and README read (kept from the folder it
replaces where not given) and the path its training started from as the repository names it.

    .venv/bin/python scripts/ship_model.py runs/general-2-4/model general-2-4 --style general \\
        --description "..." --wall-time "..." --init src/segue/assets/baselines/cvae-general-2-4
    .venv/bin/python scripts/ship_model.py runs/cvae-general-2-4/model cvae-general-2-4 --baseline \\
        --init src/segue/assets/baselines/cvae-general

The copy is loaded back before it replaces anything; the old folder goes only once the new one
is complete.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from segue.configfile import from_dict
from segue.pipeline.lstm import load_lstm
from segue.pipeline.model import load_model
from segue.sampler import SamplerConfig

ASSETS = Path(__file__).resolve().parents[1] / "src" / "segue" / "assets"
SHIPPED_KEYS = ("style", "description", "training_wall_time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a trained model folder (runs/NAME/model)")
    parser.add_argument("name", help="the shipped folder's name")
    parser.add_argument("--baseline", action="store_true", help="ship under assets/baselines/")
    parser.add_argument("--style", help="the music it learned (the catalog's style)")
    parser.add_argument("--description", help="one line for `segue models`")
    parser.add_argument("--wall-time", help="how long its training took, and on what")
    parser.add_argument("--init", help="the model its training started from, as the repository names it")
    args = parser.parse_args()

    source = args.folder
    if not (source / "config.json").is_file() or not (source / "model.safetensors").is_file():
        sys.exit(f"error: {source}: not a model folder (config.json and model.safetensors)")
    config = json.loads((source / "config.json").read_text())
    settings = config.get("sampler")  # training fits a sampler whenever its settings enable one
    sampled = settings is not None and from_dict(SamplerConfig, settings, f"{source} sampler").enabled
    if sampled and not (source / "sampler").is_dir():
        sys.exit(f"error: {source}: its config asks for a sampler, but it has no sampler/ folder")

    target = ASSETS / ("baselines" if args.baseline else "models") / args.name
    previous = json.loads((target / "config.json").read_text()) if (target / "config.json").is_file() else {}
    given = {"style": args.style, "description": args.description, "training_wall_time": args.wall_time}
    for key in SHIPPED_KEYS:
        value = given[key] if given[key] is not None else previous.get(key)
        if value is not None:
            config[key] = value
    if args.init is not None:
        config.setdefault("train", {})["init"] = args.init
    init = str(config.get("train", {}).get("init") or "")
    if init and not init.startswith("src/"):
        print(f"warning: train.init is {init!r}, not a path in the repository (give --init)", file=sys.stderr)

    staging = target.with_name(f".{args.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    load = load_lstm if config.get("baseline") == "lstm" else load_model
    load(staging)  # a folder that does not load replaces nothing
    old = target.with_name(f".{args.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    print(f"shipped {source} as {target.relative_to(ASSETS.parents[2])}: {', '.join(files)}")


if __name__ == "__main__":
    main()
