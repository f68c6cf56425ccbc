"""The conditional GAN: `ColorizationGAN`, its losses and its composite optimizer."""

from kcolor.gan.colorization_gan import ColorizationGAN, default_optimizer
from kcolor.gan.gan_optimizer import GANOptimizer
from kcolor.gan.losses import discriminator_loss, generator_loss

__all__ = ["ColorizationGAN", "GANOptimizer", "default_optimizer", "discriminator_loss", "generator_loss"]
