"""Which float type a model runs in on a CPU (curation/hardware.py)."""

from curation import hardware
from curation.hardware import bf16_in_cpuinfo, cpu_dtype

AVX2 = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu sse sse2 avx avx2 fma\n"
SAPPHIRE = "processor\t: 0\nflags\t\t: avx2 avx512f avx512bw avx512_bf16 amx_bf16 amx_tile\n"
AVX512_ONLY = "processor\t: 0\nflags\t\t: avx2 avx512f avx512bw avx512_vnni\n"
GRAVITON3 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"
GRAVITON2 = "processor\t: 0\nFeatures\t: fp asimd aes crc32 atomics\n"


def test_bf16_arithmetic_is_read_from_the_cpu_flags():
    assert not bf16_in_cpuinfo(AVX2, "x86_64")
    assert not bf16_in_cpuinfo(AVX512_ONLY, "x86_64")  # AVX512 converts bfloat16 op by op
    assert bf16_in_cpuinfo(SAPPHIRE, "x86_64")
    assert bf16_in_cpuinfo(GRAVITON3, "aarch64")
    assert not bf16_in_cpuinfo(GRAVITON2, "aarch64")
    assert not bf16_in_cpuinfo("", "x86_64")


def test_auto_becomes_float32_only_where_bfloat16_is_emulated(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: False)
    assert cpu_dtype("auto") == "float32"
    assert cpu_dtype("bfloat16") == "bfloat16"  # a dtype the recipe names is kept
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: True)
    assert cpu_dtype("auto") == "auto"
