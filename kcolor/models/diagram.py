"""A picture of a network's shape: one bar per block, as tall as its feature maps are wide.

`keras.utils.plot_model` needs Graphviz, which Colab has but a plain pip install does not; this draws the part
that teaches most, how the U-Net shrinks the image and grows it back (and how the PatchGAN shrinks it to a
grid of patch logits), with matplotlib alone.
"""

import matplotlib.pyplot as plt


def block_shapes(model):
    """`(layer name, output height, channels)` of every convolution in `model`, in order.

    Args:
        model: A functional model built for a fixed input size (e.g. `build_generator(..., image_size=32)`).
    """
    shapes = []
    for layer in model.layers:
        if layer.__class__.__name__ in ("Conv2D", "Conv2DTranspose"):
            height, channels = layer.output.shape[1], layer.output.shape[-1]
            if height is None:
                raise ValueError("Build the model with a fixed image_size to draw it.")
            shapes.append((layer.name, height, channels))
    return shapes


def plot_architecture(model, ax=None):
    """Draws `model`'s convolutions as bars (height: feature-map size; label: channels). Returns the Figure."""
    shapes = block_shapes(model)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.55 * len(shapes)), 3.2))
    names = [name.replace("_conv", "") for name, _, _ in shapes]
    heights = [height for _, height, _ in shapes]
    bars = ax.bar(range(len(shapes)), heights, color=["#4c72b0" if "decoder" not in n else "#dd8452" for n in names])
    for bar, (_, _, channels) in zip(bars, shapes):
        ax.annotate(str(channels), (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                    fontsize=8)
    ax.set_xticks(range(len(shapes)), names, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("feature map height (px)")
    ax.set_title(f"{model.name}: output size per convolution (numbers: channels)")
    ax.figure.tight_layout()
    return ax.figure
