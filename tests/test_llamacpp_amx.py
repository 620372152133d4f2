"""llama.cpp's AMX weight buffers segfault on AMX CPUs: there the model loads without them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from atomwork.models.llamacpp import _weight_buffers, cpu_has_amx


def test_an_amx_cpu_is_read_from_its_flags(tmp_path: Path) -> None:
    amx = tmp_path / "amx"
    amx.write_text("flags\t\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8\n")
    plain = tmp_path / "plain"
    plain.write_text("flags\t\t: fpu avx2 avx512f\n")
    assert cpu_has_amx(amx)
    assert not cpu_has_amx(plain)
    assert not cpu_has_amx(tmp_path / "missing")


def test_the_extra_buffers_are_off_only_while_the_model_loads() -> None:
    def defaults() -> Any:
        return SimpleNamespace(use_extra_bufts=True)

    bindings = SimpleNamespace(llama_model_default_params=defaults)
    package = SimpleNamespace(llama_cpp=bindings)
    with _weight_buffers(package, extra=False):
        assert bindings.llama_model_default_params().use_extra_bufts is False
    assert bindings.llama_model_default_params is defaults
    with _weight_buffers(package, extra=True):
        assert bindings.llama_model_default_params().use_extra_bufts is True
