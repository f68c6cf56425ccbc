"""The generator's stride-2 transposed convolutions, as Keras computes them and as an exact sub-pixel rewrite.

A 4x4 stride-2 'same' transposed convolution equals one 3x3 convolution to 4x the channels followed by
depth-to-space. The `upsampling` section times both, forward and backward, on every such layer of a preset's
generator (findings: docs/PERFORMANCE.md, "Open finding").
"""

import numpy as np

from benchmarks.peak import backend
from benchmarks.timing import measure_rate

# For output phase p (even/odd row or column), the 4x4 kernel tap that input offset d (-1, 0, +1) meets.
_SUBPIXEL_TAPS = ({-1: 3, 0: 1}, {0: 2, 1: 0})


def subpixel_kernel(kernel):
    """The 3x3 sub-pixel kernel of a 4x4 stride-2 'same' transposed kernel.

    Args:
        kernel: a Keras `Conv2DTranspose` kernel, `(4, 4, out, in)`.

    Returns:
        A `Conv2D` kernel `(3, 3, in, 4 * out)`, the four output phases side by side.
    """
    from keras import ops

    _, _, out_channels, in_channels = kernel.shape
    zeros = ops.zeros((in_channels, out_channels), kernel.dtype)
    rows = []
    for dy in (-1, 0, 1):
        columns = []
        for dx in (-1, 0, 1):
            phases = []
            for py in (0, 1):
                for px in (0, 1):
                    ky, kx = _SUBPIXEL_TAPS[py].get(dy), _SUBPIXEL_TAPS[px].get(dx)
                    phases.append(zeros if ky is None or kx is None else ops.transpose(kernel[ky, kx]))
            columns.append(ops.concatenate([ops.expand_dims(phase, 1) for phase in phases], axis=1))  # (in, 4, out)
        rows.append(ops.stack(columns))
    return ops.reshape(ops.stack(rows), (3, 3, in_channels, 4 * out_channels))


def subpixel_upsample(inputs, kernel):
    """`conv_transpose(inputs, kernel, strides=2, padding="same")` for a 4x4 kernel, as a sub-pixel convolution.

    Args:
        inputs: `(batch, height, width, in)`.
        kernel: `(4, 4, out, in)`, as Keras stores a transposed kernel.

    Returns:
        `(batch, 2 * height, 2 * width, out)`.

    Example:

    ```python
    y = subpixel_upsample(x, layer.kernel)  # equals ops.conv_transpose(x, layer.kernel, 2, padding="same")
    ```
    """
    from keras import ops

    batch, height, width, _ = inputs.shape
    out_channels = kernel.shape[2]
    outputs = ops.conv(inputs, subpixel_kernel(kernel), strides=1, padding="same")
    outputs = ops.reshape(outputs, (batch, height, width, 2, 2, out_channels))
    outputs = ops.transpose(outputs, (0, 1, 3, 2, 4, 5))
    return ops.reshape(outputs, (batch, 2 * height, 2 * width, out_channels))


def _native_upsample(inputs, kernel):
    from keras import ops

    return ops.conv_transpose(inputs, kernel, strides=2, padding="same")


def _compiled_forward_backward(function, xla):
    """A compiled function returning `(function(x, k), d sum(y^2) / d(x, k))` in the active backend."""
    if backend() == "jax":
        import jax

        def loss(x, k):
            y = function(x, k)
            return (y * y).sum(), y

        return jax.jit(lambda x, k: jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(x, k))
    import tensorflow as tf

    def forward_backward(x, k):
        with tf.GradientTape() as tape:
            tape.watch([x, k])
            y = function(x, k)
            loss = tf.reduce_sum(y * y)
        return (loss, y), tape.gradient(loss, [x, k])

    return tf.function(forward_backward, jit_compile=xla)


def generator_image_size(preset):
    """The image size of a `kcolor.models` preset."""
    from kcolor.models import get_preset

    return get_preset(preset).image_size


def measure_upsampling(preset, width, batch, xla, repeats):
    """Forward + backward time of every 4x4 stride-2 transposed convolution of a generator, both ways.

    Args:
        preset: a `kcolor.models` preset.
        width: the width multiplier.
        batch: images per batch.
        xla: compile TensorFlow's functions with XLA (JAX always does).
        repeats: timed repeats per layer and way.

    Returns:
        A row: the layers' count and useful GFLOP, `native_s` and `subpixel_s` (sums of the layers' median
        seconds), `speedup` and `max_relative_difference` (of the outputs, relative to the largest one).
    """
    from keras import ops

    from benchmarks.flops import build_fixed, conv_macs

    generator, _ = build_fixed(preset, width, generator_image_size(preset))
    rng = np.random.default_rng(0)
    layers = [layer for layer in generator.layers if layer.__class__.__name__ == "Conv2DTranspose"
              and tuple(layer.kernel.shape[:2]) == (4, 4) and tuple(layer.strides) == (2, 2)]
    totals = {"native": [], "subpixel": []}
    difference, macs = 0.0, 0
    for layer in layers:
        inputs = ops.convert_to_tensor(rng.standard_normal((batch, *layer.input.shape[1:])).astype("float32"))
        kernel = ops.convert_to_tensor(rng.standard_normal(tuple(layer.kernel.shape)).astype("float32") * 0.05)
        macs += conv_macs(layer) * batch
        outputs = {}
        for name, function in (("native", _native_upsample), ("subpixel", subpixel_upsample)):
            step = _compiled_forward_backward(function, xla)

            def run_once(step=step, name=name):
                (_, y), gradients = step(inputs, kernel)
                outputs[name] = ops.convert_to_numpy(y)
                [ops.convert_to_numpy(gradient) for gradient in gradients]

            _, seconds = measure_rate(run_once, 1, repeats, warmup=1)
            totals[name].append(seconds["median"])
        scale = float(np.abs(outputs["native"]).max()) or 1.0
        difference = max(difference, float(np.abs(outputs["native"] - outputs["subpixel"]).max()) / scale)
    native, subpixel = sum(totals["native"]), sum(totals["subpixel"])
    return {"backend": backend(), "preset": preset, "width": width, "batch": batch, "xla": xla,
            "layers": len(layers), "useful_gflop": 2 * 3 * macs / 1e9, "native_s": native, "subpixel_s": subpixel,
            "speedup": native / subpixel, "max_relative_difference": difference}
