"""Train-step throughput: kcolor's step and the reference's, built first, then timed interleaved.

Measured in the active Keras backend of this process, with the `kcolor` this process imports (the working tree's,
or a revision's checkout in an A/B run: `benchmarks.ab`). Why the interleaving and how to read the rows:
benchmarks/README.md#train-step.
"""

import time

import numpy as np

from benchmarks.peak import backend
from benchmarks.timing import summarize


def _random_images(batch, size, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (batch, size, size, 3), dtype=np.uint8)


def build_networks(preset, width, policy):
    """The preset's generator and discriminator at `width`, built under the dtype policy `policy`.

    Args:
        preset: a `kcolor.models` preset name.
        width: the width multiplier.
        policy: a Keras dtype policy (`float32`, `mixed_bfloat16`, `mixed_float16`); the global policy is
            restored afterwards.

    Returns:
        `(generator, discriminator)`.
    """
    import keras

    from kcolor.models import build_discriminator, build_generator

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        return build_generator(preset, width_multiplier=width), build_discriminator(preset, width_multiplier=width)
    finally:
        keras.config.set_dtype_policy(previous)


def xla_cost_flops(gan, images):
    """FLOPs of the compiled JAX train step per XLA's cost analysis.

    Args:
        gan: a compiled `kcolor.gan.ColorizationGAN` (JAX backend).
        images: one batch of uint8 images.

    Returns:
        The step's FLOPs (the whole batch), or None where the runtime has no cost analysis.
    """
    import jax

    state = (
        [v.value for v in gan.trainable_variables],
        [v.value for v in gan.non_trainable_variables],
        [v.value for v in gan.optimizer.variables],
        [v.value for v in gan.metrics_variables],
    )
    try:
        compiled = jax.jit(gan.train_step).lower(state, jax.numpy.asarray(images)).compile()
        cost = compiled.cost_analysis()
    except Exception:  # noqa: BLE001 - cost analysis is best effort (not every runtime implements it)
        return None
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else None
    return float(cost["flops"]) if cost and "flops" in cost else None


def prepare_train(config):
    """Builds one train-step configuration and runs its first step (compilation, timed apart).

    Args:
        config: a dict: `implementation` (`reference`, `kcolor`, or `kcolor@REV` in a revision's checkout),
            `preset`, `width`, `batch`, `xla`, `precision`, `generator_steps`, and optionally `xla_cost` (JAX:
            also report XLA's FLOP count of the compiled step) and `steps_revision` (the revision this process's
            kcolor was checked out from: its arithmetic is not counted here).

    Returns:
        `(row, run_step)`: the result row so far (the config, `image_size`, `backend`, `flops_per_image`,
        `finite`, `compile_s`) and a function that runs one step and returns the generator loss.

    Example:

    ```python
    row, run_step = prepare_train({"implementation": "kcolor", "preset": "nazeri-cifar", "width": 0.25,
                                   "batch": 16, "xla": False, "precision": "float32", "generator_steps": 1})
    run_step()
    ```
    """
    import keras

    from benchmarks.flops import count
    from kcolor.models import get_preset

    keras.utils.set_random_seed(0)
    preset, width, batch = config["preset"], config["width"], config["batch"]
    image_size = config.get("image_size") or get_preset(preset).image_size
    images = _random_images(batch, image_size)
    generator_steps = config.get("generator_steps", 1)
    implementation = config["implementation"]
    generator, discriminator = build_networks(preset, width, config["precision"])
    row = dict(config, image_size=image_size, backend=backend())
    if config.get("steps_revision"):
        row["flops_per_image"] = None  # another revision's step: its arithmetic is not counted here
    else:
        flops = count(preset, width, image_size, generator_steps)
        row["flops_per_image"] = flops["reference_step_flops" if implementation == "reference" else "kcolor_step_flops"]

    if implementation == "reference":
        import tensorflow as tf

        from benchmarks.reference import ReferenceTrainer

        trainer = ReferenceTrainer(generator, discriminator)
        batch_tensor = tf.constant(images)

        def run_step():
            return float(trainer.train_step(batch_tensor)["g_loss"])

    else:
        from kcolor.gan import ColorizationGAN

        gan = ColorizationGAN(generator, discriminator)
        gan.compile(jit_compile=config["xla"], generator_steps=generator_steps)
        if config.get("xla_cost") and backend() == "jax":
            row["xla_cost_flops_per_image"] = (xla_cost_flops(gan, images) or 0.0) / batch or None

        def run_step():
            return float(gan.train_on_batch(images, return_dict=True)["g_loss"])

    start = time.perf_counter()
    row["finite"] = bool(np.isfinite(run_step()))
    row["compile_s"] = time.perf_counter() - start
    return row, run_step


def measure_train_group(configs, repeats, steps, warmup):
    """images/s of several train-step configurations, timed interleaved.

    All configurations are built and compiled first; then each timed repeat runs `steps` steps of every
    configuration in turn, so that a change in the machine's load hits all of them alike.

    Args:
        configs: configuration dicts (`prepare_train`), usually of one preset, width and batch.
        repeats: timed repeats per configuration.
        steps: train steps per timed repeat.
        warmup: untimed repeats after the first step.

    Returns:
        One row per configuration with `images_per_second` and `step_seconds` (`summarize` dicts),
        `gflops_per_second` (None without a FLOP count), `steps`, `repeats` and `warmup`.
    """
    prepared = [prepare_train(config) for config in configs]
    for _ in range(warmup):
        for _, run_step in prepared:
            for _ in range(steps):
                run_step()
    seconds = [[] for _ in prepared]
    for _ in range(repeats):
        for index, (_, run_step) in enumerate(prepared):
            start = time.perf_counter()
            for _ in range(steps):
                run_step()
            seconds[index].append(time.perf_counter() - start)
    rows = []
    for (row, _), elapsed in zip(prepared, seconds):
        batch = row["batch"]
        row["images_per_second"] = summarize([steps * batch / value for value in elapsed])
        row["step_seconds"] = summarize([value / steps for value in elapsed])
        flops = row["flops_per_image"]
        row["gflops_per_second"] = None if flops is None else row["images_per_second"]["median"] * flops / 1e9
        row["steps"], row["repeats"], row["warmup"] = steps, repeats, warmup
        rows.append(row)
    return rows


def measure_train(configs, repeats, steps, warmup):
    """`measure_train_group` over each group of configurations that share preset, width and batch.

    Args:
        configs, repeats, steps, warmup: as for `measure_train_group`.

    Returns:
        The rows of every group, in order.

    Example:

    ```python
    rows = measure_train([reference_config, kcolor_config], repeats=5, steps=2, warmup=1)
    ```
    """
    groups = {}
    for config in configs:
        groups.setdefault((config["preset"], config["width"], config["batch"]), []).append(config)
    rows = []
    for group in groups.values():
        rows.extend(measure_train_group(group, repeats, steps, warmup))
    return rows
