"""The machine's practical peak: GFLOP/s of a large square matrix product, in the active Keras backend.

Train rows report their utilisation against it (`benchmarks.derived`).
"""

from benchmarks.timing import measure_rate

MATMUL_SIZE = 2048


def backend():
    """The active Keras backend's name (`tensorflow`, `jax`, ...)."""
    import keras

    return keras.backend.backend()


def measure_peak(repeats=5, size=MATMUL_SIZE):
    """GFLOP/s of a `size` x `size` matrix product in float32 and in bfloat16.

    JAX runs `jnp.dot` under `jax.jit` (XLA); TensorFlow runs `tf.linalg.matmul` in a `tf.function` without XLA
    (oneDNN or Eigen), as kcolor's TensorFlow train step runs on a CPU.

    Args:
        repeats: timed products per dtype, after two untimed ones.
        size: the matrices' side (2 x size^3 FLOPs per product).

    Returns:
        One row per dtype: backend, library, dtype, size and `gflops_per_second` (a `summarize` dict).

    Example:

    ```python
    rows = measure_peak(repeats=3, size=1024)
    rows[0]["gflops_per_second"]["median"]
    ```
    """
    rows = []
    flops = 2.0 * size**3
    for dtype in ("float32", "bfloat16"):
        if backend() == "jax":
            import jax
            import jax.numpy as jnp

            a = jnp.ones((size, size), dtype) * 0.5
            b = jnp.ones((size, size), dtype) * 0.25
            product = jax.jit(jnp.dot)

            def run_once():
                product(a, b).block_until_ready()

            library = "XLA"
        else:
            import tensorflow as tf

            a = tf.cast(tf.fill((size, size), 0.5), dtype)
            b = tf.cast(tf.fill((size, size), 0.25), dtype)
            product = tf.function(tf.linalg.matmul, jit_compile=False)

            def run_once():
                product(a, b).numpy()

            library = "TensorFlow (oneDNN/Eigen)"
        rate, _ = measure_rate(run_once, flops / 1e9, repeats, warmup=2)
        rows.append({"backend": backend(), "library": library, "dtype": dtype, "size": size, "gflops_per_second": rate})
    return rows
