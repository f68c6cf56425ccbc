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


def default_jit_compile():
    """Whether kcolor XLA-compiles the train step when asked for `jit_compile="auto"`.

    On for JAX (its steps are always `jax.jit`-compiled) and for TensorFlow with a GPU or TPU. Off for
    TensorFlow on a CPU-only machine, the rule Keras's own `"auto"` follows: there, XLA made kcolor's train step
    1.5-2.8x *slower* than TensorFlow's graph mode with oneDNN (docs/PERFORMANCE.md, `python -m benchmarks`).
    """
    return keras.backend.backend() != "tensorflow" or has_gpu()


def cpu_has_bfloat16(cpuinfo="/proc/cpuinfo"):
    """True when the CPU computes in bfloat16 natively (x86 `avx512_bf16` or `amx_bf16`; read from Linux's
    `/proc/cpuinfo`, so False elsewhere). Without it, bfloat16 is emulated and slower than float32."""
    try:
        with open(cpuinfo) as file:
            flags = {flag for line in file if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def default_mixed_precision_policy():
    """The dtype policy of `--mixed-precision auto`: `mixed_float16` on a GPU, `mixed_bfloat16` on a CPU that
    computes in bfloat16 natively (1.2-1.4x faster training there, docs/PERFORMANCE.md), else `float32`."""
    if has_gpu():
        return "mixed_float16"
    return "mixed_bfloat16" if cpu_has_bfloat16() else "float32"
