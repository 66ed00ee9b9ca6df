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


def test_the_cli_lets_waiting_openmp_threads_sleep_unless_told_otherwise():
    """main() sets OMP_WAIT_POLICY=PASSIVE before anything loads torch; a value the user set is kept."""
    import os
    import subprocess
    import sys

    probe = ("import os, sys; sys.argv = ['curate', '--help']; from curation.cli import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write('POLICY=' + os.environ['OMP_WAIT_POLICY'] + ' TORCH=' + str('torch' in sys.modules))")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for given, expected in ((None, "PASSIVE"), ("ACTIVE", "ACTIVE")):
        run_env = env if given is None else {**env, "OMP_WAIT_POLICY": given}
        result = subprocess.run([sys.executable, "-c", probe], env=run_env, capture_output=True, text=True, timeout=300)
        assert f"POLICY={expected} TORCH=False" in result.stderr, result.stderr[-2000:]
