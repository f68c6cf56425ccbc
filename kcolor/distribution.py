"""Data-parallel training on several devices, through the same `fit` call.

One context manager covers both backends: build the networks, compile and `fit` inside it.

| kind            | backend    | what it does                                                               |
|-----------------|------------|----------------------------------------------------------------------------|
| `none`          | any        | nothing (one device)                                                       |
| `mirrored`      | tensorflow | `tf.distribute.MirroredStrategy` over the local GPUs (else the local CPUs) |
| `multi-worker`  | tensorflow | `tf.distribute.MultiWorkerMirroredStrategy` (workers from `TF_CONFIG`)     |
| `data-parallel` | jax        | `keras.distribution.DataParallel` over every device JAX sees               |
| `auto`          | any        | `mirrored` / `data-parallel` when there are several devices, else `none`   |

The batch size given to `load_dataset` / `fit` is the **global** batch: each of the N replicas gets 1/N of it
(use a multiple of N). The train step averages every loss over the global batch (`kcolor.gan.tensorflow_steps`
divides each replica's loss by N because the optimizer sums the replicas' gradients; the JAX step is one
global computation over the sharded batch), so the first updates equal single-device training on the same
batches. One difference is intended, not a bug: under `tf.distribute`, batch normalization uses each
replica's own batch statistics (Keras's `BatchNormalization` default, as in every `MirroredStrategy` model),
so with N replicas the statistics are over batch / N images; under JAX `DataParallel` they are global.

Example:

```python
with distribution_scope("auto") as distribution:   # before any model is built
    gan = ColorizationGAN(build_generator(), build_discriminator())
    gan.compile()
    gan.fit(load_dataset("cifar10", batch_size=128 * replica_count(distribution)), epochs=10)
```
"""

import contextlib

KINDS = ("none", "auto", "mirrored", "multi-worker", "data-parallel")
TENSORFLOW_KINDS = ("mirrored", "multi-worker")
JAX_KINDS = ("data-parallel",)


def _is_keras_distribution(distribution):
    """True for a `keras.distribution` object (JAX), False for a `tf.distribute` strategy."""
    import keras  # (imported where used: `KINDS` is read by `kcolor train --help`, which loads no Keras)

    return isinstance(distribution, (keras.distribution.DataParallel, keras.distribution.ModelParallel))


def _local_devices(backend):
    """Device names for data parallelism: the accelerators if there are any, else the (logical) CPUs."""
    if backend == "tensorflow":
        import tensorflow as tf

        for device_type in ("GPU", "CPU"):
            devices = [device.name for device in tf.config.list_logical_devices(device_type)]
            if devices:
                return devices
        return []
    import keras

    return keras.distribution.list_devices()


def resolve_kind(kind, backend=None):
    """The concrete kind (`none`, `mirrored`, `multi-worker` or `data-parallel`) that `kind` means here.

    Raises:
        ValueError: for an unknown kind, or one the active Keras backend cannot run.
    """
    import keras

    kind = "none" if kind is None else str(kind).lower().replace("_", "-")
    backend = backend or keras.backend.backend()
    if kind not in KINDS:
        raise ValueError(f"Unknown distribution {kind!r}; choose one of {', '.join(KINDS)}.")
    if kind == "auto":
        if backend not in ("tensorflow", "jax") or len(_local_devices(backend)) < 2:
            return "none"
        return "mirrored" if backend == "tensorflow" else "data-parallel"
    if kind in TENSORFLOW_KINDS and backend != "tensorflow":
        raise ValueError(
            f"--distribute {kind} uses tf.distribute and needs KERAS_BACKEND=tensorflow (this process uses "
            f"{backend!r}); on JAX use --distribute data-parallel."
        )
    if kind in JAX_KINDS and backend != "jax":
        raise ValueError(
            f"--distribute {kind} uses keras.distribution and needs KERAS_BACKEND=jax (this process uses "
            f"{backend!r}); on TensorFlow use --distribute mirrored (or multi-worker)."
        )
    return kind


def create_distribution(kind, devices=None):
    """The strategy (TensorFlow) or `keras.distribution.DataParallel` (JAX) for `kind`, or None for `none`.

    Args:
        kind: One of `KINDS`.
        devices: Device names to use (default: every local accelerator, else every logical CPU; ignored by
            `multi-worker`, whose devices come from the cluster).
    """
    import keras

    kind = resolve_kind(kind)
    backend = keras.backend.backend()
    if kind == "none":
        return None
    if kind == "data-parallel":
        return keras.distribution.DataParallel(devices=list(devices or _local_devices(backend)))
    import tensorflow as tf

    if kind == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.MirroredStrategy(devices=list(devices or _local_devices(backend)))


def replica_count(distribution):
    """Number of replicas the global batch is split over (1 for None)."""
    if distribution is None:
        return 1
    if _is_keras_distribution(distribution):
        return int(distribution.device_mesh.devices.size)
    return int(distribution.num_replicas_in_sync)


def describe_distribution(distribution):
    """One line for logs, e.g. `MirroredStrategy: 2 replicas (/job:localhost/.../CPU:0, ...)`."""
    if distribution is None:
        return "single device"
    if _is_keras_distribution(distribution):
        devices = [str(device) for device in distribution.device_mesh.devices.flatten()]
    else:
        devices = list(getattr(distribution.extended, "worker_devices", ()))
    return f"{type(distribution).__name__}: {replica_count(distribution)} replicas ({', '.join(devices)})"


def xla_allowed(distribution, jit_compile=True):
    """The `jit_compile` to compile with under `distribution`: off under `tf.distribute`, else `jit_compile`.

    XLA cannot place a mirrored variable's replicas on logical CPU devices ("Trying to access resource ...
    located in device CPU:1 from device CPU:0"), and Keras's own `jit_compile="auto"` turns XLA off under any
    `tf.distribute` strategy; kcolor does the same. JAX's `DataParallel` always compiles with XLA.
    """
    if distribution is not None and not _is_keras_distribution(distribution):
        return False
    return jit_compile


def check_global_batch_size(batch_size, distribution):
    """Raises a `ValueError` unless `batch_size` splits evenly over the replicas."""
    replicas = replica_count(distribution)
    if batch_size % replicas:
        raise ValueError(
            f"The batch size {batch_size} is the global batch and must be a multiple of the {replicas} replicas "
            f"(e.g. {max(replicas, batch_size // replicas * replicas)})."
        )


@contextlib.contextmanager
def distribution_scope(kind="none", devices=None):
    """Context in which to build, compile and `fit` a model for data-parallel training.

    TensorFlow: enters the strategy's scope (models, optimizers and metrics created inside are mirrored, and
    `fit` runs the train step on every replica). JAX: sets the global Keras distribution (variables created
    inside are replicated, `fit` shards each batch), and restores the previous one on exit.

    Args:
        kind: One of `KINDS` (see the module docstring); `None` means `none`.
        devices: Optional device names (see `create_distribution`).

    Yields:
        The strategy / distribution, or None for `none`.
    """
    import keras

    distribution = create_distribution(kind, devices)
    if distribution is None:
        yield None
    elif _is_keras_distribution(distribution):
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(distribution)
        try:
            yield distribution
        finally:
            keras.distribution.set_distribution(previous)
    else:
        with distribution.scope():
            yield distribution
