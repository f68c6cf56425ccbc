"""Tests of `kcolor.devices`: the one-line description of where Keras runs."""

import keras

from kcolor import devices


def test_describe_device_names_keras_the_backend_and_the_accelerators():
    line = devices.describe_device()
    assert line.startswith(f"Keras {keras.__version__} on {keras.backend.backend()}: ")
    found = devices.accelerators()
    assert devices.has_gpu() is bool(found)
    if found:
        assert line.endswith(f"GPU ({', '.join(found)})")
    else:
        assert line.endswith("CPU only")
    assert "\n" not in line


def test_describe_device_lists_every_accelerator(monkeypatch):
    monkeypatch.setattr(devices, "accelerators", lambda: ["cuda:0", "cuda:1"])
    assert devices.describe_device().endswith(": GPU (cuda:0, cuda:1)")
    assert devices.has_gpu()
    monkeypatch.setattr(devices, "accelerators", lambda: [])
    assert devices.describe_device().endswith(": CPU only") and not devices.has_gpu()


def test_cpu_has_bfloat16_reads_the_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert devices.cpu_has_bfloat16(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\n")
    assert not devices.cpu_has_bfloat16(cpuinfo)
    assert not devices.cpu_has_bfloat16(tmp_path / "missing")


def test_auto_settings_follow_the_hardware(monkeypatch):
    monkeypatch.setattr(devices, "accelerators", lambda: ["cuda:0"])
    assert devices.default_mixed_precision_policy() == "mixed_float16"
    assert devices.default_jit_compile()
    monkeypatch.setattr(devices, "accelerators", lambda: [])
    monkeypatch.setattr(devices, "cpu_has_bfloat16", lambda: True)
    assert devices.default_mixed_precision_policy() == "mixed_bfloat16"
    monkeypatch.setattr(devices, "cpu_has_bfloat16", lambda: False)
    assert devices.default_mixed_precision_policy() == "float32"
    # XLA is slower than graph mode for TensorFlow on a CPU; JAX always compiles.
    assert devices.default_jit_compile() is (keras.backend.backend() != "tensorflow")
