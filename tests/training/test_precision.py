import dataclasses
from pathlib import Path

import pytest
import tomllib
import torch

from segue.cli import main
from segue.data.chorales import load_chorales, split_indices
from segue.training import precision as precision_module
from segue.training.precision import CpuSupport, choose_precision, cpu_support
from segue.training.trainer import Trainer
from tests.tiny import TINY_MODEL, TINY_TRAIN, tiny_toml

CPU = torch.device("cpu")
BF16_CPU = CpuSupport(avx512_bf16=True, amx=False, aten="AVX512", onednn_limit="")
AVX2_CPU = CpuSupport(avx512_bf16=False, amx=False, aten="AVX2", onednn_limit="")


def no_probe(precision: str) -> float:
    raise AssertionError(f"measured {precision} where the capability decides")


@pytest.mark.parametrize(
    ("support", "native"),
    [
        (BF16_CPU, True),
        (CpuSupport(False, True, "AVX512", ""), True),  # AMX alone
        (AVX2_CPU, False),
        (CpuSupport(True, False, "AVX2", ""), False),  # ATEN_CPU_CAPABILITY=avx2
        (CpuSupport(True, False, "AVX512", "AVX2"), False),  # ONEDNN_MAX_CPU_ISA=AVX2
        (CpuSupport(True, False, "AVX512", "AVX512_CORE"), False),  # AVX-512 without its bf16
        (CpuSupport(True, False, "AVX512", "avx512_core_bf16"), True),
        (CpuSupport(False, True, "AVX512", "AVX512_CORE_AMX"), True),
        (CpuSupport(False, False, "AVX512", ""), False),  # AVX-512 without bf16 instructions
    ],
)
def test_native_bf16_needs_the_instructions_and_no_limit_below_them(support, native):
    assert support.native_bf16 is native


def test_cpu_support_reads_the_variables_that_make_a_cpu_run_as_an_older_one(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    assert cpu_support().native_bf16
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    support = cpu_support()
    assert not support.native_bf16 and "oneDNN limited to AVX2" in support.flags
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    assert not cpu_support().native_bf16


def test_auto_takes_fp32_on_a_cpu_without_native_bf16_without_measuring(capsys):
    choice = choose_precision("auto", CPU, no_probe, AVX2_CPU)
    assert choice.precision == "fp32" and "no native bf16" in choice.reason and "AVX2" in choice.reason
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("fp32", "bf16", "expected"), [(0.2, 0.1, "bf16"), (0.1, 0.2, "fp32")])
def test_auto_on_a_bf16_cpu_takes_the_precision_measured_faster(fp32, bf16, expected):
    seconds = {"fp32": fp32, "bf16": bf16}
    asked = []

    def probe(precision: str) -> float:
        asked.append(precision)
        return seconds[precision]

    choice = choose_precision("auto", CPU, probe, BF16_CPU)
    assert choice.precision == expected and sorted(asked) == ["bf16", "fp32"]
    assert "200 ms" in choice.reason and "100 ms" in choice.reason


def test_an_explicit_bf16_on_a_cpu_without_native_bf16_runs_with_a_one_line_warning(capsys):
    assert choose_precision("bf16", CPU, no_probe, AVX2_CPU).precision == "bf16"
    warning = capsys.readouterr().err
    assert warning.startswith("segue: warning: precision bf16") and "slower" in warning
    assert warning.count("\n") == 1
    assert choose_precision("bf16", CPU, no_probe, BF16_CPU).precision == "bf16"
    assert choose_precision("fp32", CPU, no_probe, AVX2_CPU).precision == "fp32"
    assert capsys.readouterr().err == ""


def test_auto_on_cuda_follows_the_gpus_bf16_support(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Some GPU")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert choose_precision("auto", torch.device("cuda", 0), no_probe).precision == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert choose_precision("auto", torch.device("cuda", 0), no_probe).precision == "fp32"
    assert choose_precision("auto", torch.device("mps"), no_probe).precision == "fp32"


def test_a_bad_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        choose_precision("fp16", CPU, no_probe, BF16_CPU)


@pytest.fixture(scope="module")
def pieces():
    chorales = load_chorales()
    return [chorales[i] for i in split_indices(chorales, "train")[:20]]


def test_the_trainer_measures_on_copies_and_leaves_the_run_as_it_was(monkeypatch, tmp_path, pieces):
    monkeypatch.setattr(precision_module, "cpu_support", lambda: BF16_CPU)
    config = dataclasses.replace(TINY_TRAIN, precision="auto")
    measured = Trainer(tmp_path / "a", TINY_MODEL, config, pieces, progress=False)
    assert measured.precision.precision in ("fp32", "bf16") and "ms in bf16" in measured.precision.reason
    assert measured.tc.precision == measured.precision.precision
    plain = Trainer(
        tmp_path / "b", TINY_MODEL, dataclasses.replace(TINY_TRAIN, precision="fp32"), pieces, progress=False
    )
    for a, b in zip(measured.G.state_dict().values(), plain.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(measured.D.state_dict().values(), plain.D.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.equal(measured.data_rng.get_state(), plain.data_rng.get_state())
    assert torch.equal(measured.noise_rng.get_state(), plain.noise_rng.get_state())
    assert all(p.grad is None for p in measured.G.parameters())


def test_segue_train_prints_the_choice_and_writes_it_to_the_run_config(monkeypatch, tmp_path: Path, capsys):
    monkeypatch.setattr(precision_module, "cpu_support", lambda: AVX2_CPU)
    (tmp_path / "tiny.toml").write_text(tiny_toml(precision="auto", steps=2))
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--config", str(tmp_path / "tiny.toml"), "--quiet"]) == 0
    assert (
        "precision: fp32 (auto: this CPU has no native bf16 (no avx512_bf16 or amx, ATen kernels AVX2))"
        in capsys.readouterr().out
    )
    written = tomllib.loads((run / "config.toml").read_text())
    assert written["train"]["precision"] == "fp32"
    assert written["run"]["precision"].startswith("fp32 (auto: this CPU has no native bf16")
