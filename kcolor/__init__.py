"""kcolor: image colorization with conditional GANs in Keras 3."""

__version__ = "0.1.0"
