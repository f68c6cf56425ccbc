"""Arithmetic of a train step, counted analytically from the networks' convolutions.

A convolution's multiply-accumulates (MACs) per image are `output pixels x kernel taps x in x out channels`
for `Conv2D`, and `input pixels x kernel taps x in x out channels` for `Conv2DTranspose` (every input pixel is
spread over the kernel; the zeros a naive lowering would multiply are not counted). One FLOP is half a MAC's
work: FLOPs = 2 x MACs. Element-wise work (batch norm, activations, losses, the L*a*b* conversion, Adam) is
left out; it is a few percent of the total at most for these networks.

Backward passes are counted per layer: a weight gradient costs one forward of the layer, an input gradient
one more, and a layer whose input needs no gradient (the first layer of a network that is differentiated with
respect to its weights only) skips it. What each train step runs, per image:

kcolor (`generator_steps = 1`): one G forward shared by both updates; D forward on real and on fake (D's
update: weight gradients, input gradients below the first layer); D forward on G(z) with D's *updated* weights
and its input gradients (G's update); G's weight and input gradients.

reference (pix2pix tutorial): one G forward; D forward on real and on fake, both used by both tapes; D's tape
as above; G's tape back through D's fake branch (input gradients only) and G.

So the two steps differ by exactly one discriminator forward (the alternating update's second look at G(z)).
Each further generator step (`generator_steps > 1`) adds a G forward and backward and a D forward and input
backward.

The L1-only step (the U-Net baseline, and the generator's L1 warm-up of kcolor's recipe) runs no discriminator:
G forward, weight and input gradients.
"""

import dataclasses

import keras


@dataclasses.dataclass(frozen=True)
class NetworkCost:
    """MACs per image of one network's forward pass, and of its first layer (no input gradient there)."""

    forward: int
    first_layer: int

    def backward(self, weights=True, inputs=True, first_input=False):
        """MACs of a backward pass: weight gradients and/or input gradients (the first layer's if asked)."""
        macs = self.forward if weights else 0
        if inputs:
            macs += self.forward - (0 if first_input else self.first_layer)
        return macs


def _static(shape):
    return [int(size) for size in shape[1:]]


def conv_macs(layer):
    """MACs per image of a `Conv2D` / `Conv2DTranspose` layer with static shapes (0 for other layers)."""
    if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
        return 0
    kernel_h, kernel_w, in_channels, out_channels = (int(size) for size in layer.kernel.shape)
    if isinstance(layer, keras.layers.Conv2DTranspose):
        # Keras stores the transposed kernel as (h, w, out, in).
        in_channels, out_channels = out_channels, in_channels
        height, width, _ = _static(layer.input.shape)
    else:
        height, width, _ = _static(layer.output.shape)
    return height * width * kernel_h * kernel_w * in_channels * out_channels


def network_cost(model):
    """`NetworkCost` of a functional model built with a fixed image size."""
    macs = [conv_macs(layer) for layer in model.layers]
    first = next(value for value in macs if value)
    return NetworkCost(forward=sum(macs), first_layer=first)


def build_fixed(preset, width_multiplier, image_size):
    """The preset's generator and discriminator with static shapes (for counting only)."""
    from kcolor.models import build_discriminator, build_generator

    generator = build_generator(preset, width_multiplier=width_multiplier, image_size=image_size)
    discriminator = build_discriminator(preset, width_multiplier=width_multiplier, image_size=image_size)
    return generator, discriminator


def step_macs(generator_cost, discriminator_cost, implementation="kcolor", generator_steps=1):
    """MACs per image of one train step (see the module docstring for what each step computes)."""
    g, d = generator_cost, discriminator_cost
    g_update = g.forward + g.backward()  # G forward, weight gradients, input gradients (not the first layer's)
    d_update = 2 * (d.forward + d.backward())  # real and fake branch
    through_d = d.backward(weights=False, first_input=True)  # G's loss back through D to G(z)
    if implementation == "reference":
        return g_update + d_update + through_d
    if implementation not in ("kcolor", "kcolor-unshared"):
        raise ValueError(f"unknown implementation {implementation!r}")
    # kcolor-unshared: the step before this benchmark, which ran a separate G forward for D's update.
    unshared = g.forward if implementation == "kcolor-unshared" else 0
    first = unshared + g_update + d_update + d.forward + through_d
    return first + (generator_steps - 1) * (g_update + d.forward + through_d)


def count(preset, width_multiplier, image_size=None, generator_steps=1):
    """FLOPs per image of both networks' forwards and of both train steps, as a dict.

    Example:

    ```python
    count("nazeri-cifar", 1.0)["kcolor_step_flops"] / 1e9   # ~2.9 GFLOP per image
    ```
    """
    from kcolor.models import get_preset

    image_size = image_size or get_preset(preset).image_size
    generator, discriminator = build_fixed(preset, width_multiplier, image_size)
    g, d = network_cost(generator), network_cost(discriminator)
    return {
        "preset": get_preset(preset).name,
        "width": width_multiplier,
        "image_size": image_size,
        "generator_params": int(generator.count_params()),
        "discriminator_params": int(discriminator.count_params()),
        "generator_forward_flops": 2 * g.forward,
        "discriminator_forward_flops": 2 * d.forward,
        "kcolor_step_flops": 2 * step_macs(g, d, "kcolor", generator_steps),
        "kcolor_unshared_step_flops": 2 * step_macs(g, d, "kcolor-unshared", generator_steps),
        "reference_step_flops": 2 * step_macs(g, d, "reference"),
        "l1_step_flops": 2 * (g.forward + g.backward()),
        "generator_steps": generator_steps,
    }
