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
