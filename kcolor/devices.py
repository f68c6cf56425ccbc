"""Which accelerator Keras will use, in one line for notebooks and logs."""

import keras


def accelerators():
    """Names of the GPUs (or TPUs) the active Keras backend sees; empty on a CPU-only machine."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [str(device) for device in jax.devices() if device.platform != "cpu"]
    if backend == "tensorflow":
        import tensorflow as tf

        return [device.name for device in tf.config.list_physical_devices() if device.device_type in ("GPU", "TPU")]
    return []


def has_gpu():
    """True when the active backend has a GPU or TPU."""
    return bool(accelerators())


def describe_device():
    """One line, e.g. `Keras 3.15.1 on jax: GPU (cuda:0)` or `... on tensorflow: CPU only`."""
    devices = accelerators()
    where = f"GPU ({', '.join(devices)})" if devices else "CPU only"
    return f"Keras {keras.__version__} on {keras.backend.backend()}: {where}"
