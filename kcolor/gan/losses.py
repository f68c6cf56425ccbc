"""The conditional GAN's losses, shared by every backend's train step.

The game of Goodfellow et al. (2014), conditioned on the grayscale image z as in Nazeri et al. (2018):

    min_G max_D  E[log D(x | z)] + E[log(1 - D(G(z) | z))]

The discriminator maximises it: binary cross-entropy with target 1 on real color and 0 on generated color,
with **one-sided label smoothing** (real targets 0.9, fakes stay at 0; Salimans et al. 2016), which keeps D
from growing over-confident. The generator uses the **non-saturating** loss -log D(G(z) | z) (cross-entropy
with target 1 on its fakes), whose gradient is strong exactly when D rejects the fake, plus lambda times the
L1 distance between predicted and true ab (lambda = 100 in the paper), which anchors the colors to the truth.
At the game's equilibrium D outputs 1/2 everywhere and each cross-entropy term is log 2 = 0.693.

Optionally (`chroma_weight` > 0) the generator also pays the distance between its chroma |ab| and the true
chroma: how colorful a pixel is, whatever its hue. Where the hue is uncertain (a car that may be red or blue), the
L1 on a* and b* is smallest near gray, so it washes such colors out; the chroma term asks for the true amount of
color without choosing the hue, and it also charges for color painted where the truth has none. Its absolute
penalty aims at the median amount of color a region can have, its squared penalty at the mean, which is larger
(most pixels are nearly gray, a few very colorful) and charges a large excess, a painted blob, quadratically.
"""

from keras import ops


def _cross_entropy(targets, logits):
    return ops.mean(ops.binary_crossentropy(targets, ops.cast(logits, "float32"), from_logits=True))


def discriminator_loss(real_logits, fake_logits, label_smoothing=0.9):
    """Discriminator loss: cross-entropy on real patches (target `label_smoothing`) plus fake ones (target 0).

    Args:
        real_logits: D's logits on real color, any shape.
        fake_logits: D's logits on generated color.
        label_smoothing: Target for real patches; 1.0 disables smoothing.

    Returns:
        Scalar float32 loss (the sum of both terms; 2 log 2 = 1.386 at equilibrium without smoothing).
    """
    real_loss = _cross_entropy(ops.full_like(real_logits, label_smoothing, dtype="float32"), real_logits)
    fake_loss = _cross_entropy(ops.zeros_like(fake_logits, dtype="float32"), fake_logits)
    return real_loss + fake_loss


def l1_loss(true_ab, predicted_ab):
    """Mean absolute error between normalised ab tensors."""
    return ops.mean(ops.abs(ops.cast(true_ab, "float32") - ops.cast(predicted_ab, "float32")))


def chroma(ab, epsilon=1e-6):
    """Chroma sqrt(a*^2 + b*^2) of normalised ab `(..., 2)`, float32 `(...)`; `epsilon` keeps its gradient finite
    at gray."""
    ab = ops.cast(ab, "float32")
    return ops.sqrt(ops.sum(ops.square(ab), axis=-1) + epsilon)


CHROMA_PENALTIES = ("absolute", "squared")


def chroma_loss(true_ab, predicted_ab, penalty="absolute"):
    """Mean penalty on the difference between predicted and true chroma (normalised ab units): color amount, not hue.

    Args:
        true_ab: The real normalised ab.
        predicted_ab: The generator's normalised ab.
        penalty: `"absolute"` (L1: the median amount of color) or `"squared"` (the mean amount).

    Returns:
        Scalar float32 loss.
    """
    if penalty not in CHROMA_PENALTIES:
        raise ValueError(f"penalty must be one of {', '.join(CHROMA_PENALTIES)}, got {penalty!r}.")
    difference = chroma(true_ab) - chroma(predicted_ab)
    return ops.mean(ops.abs(difference) if penalty == "absolute" else ops.square(difference))


def generator_loss(fake_logits, true_ab, predicted_ab, l1_weight=100.0, chroma_weight=0.0, chroma_penalty="absolute"):
    """Generator loss: non-saturating adversarial term plus `l1_weight` x L1 (plus `chroma_weight` x chroma loss).

    Args:
        fake_logits: D's logits on the generated color, or `None` for the L1-only U-Net baseline.
        true_ab: The real normalised ab.
        predicted_ab: The generator's normalised ab.
        l1_weight: lambda, the weight of the L1 term.
        chroma_weight: Weight of `chroma_loss` (0: the paper's loss; the term is then not computed).
        chroma_penalty: `chroma_loss`'s penalty, `"absolute"` or `"squared"`.

    Returns:
        `(total, adversarial, l1)` scalar float32 tensors; `adversarial` is 0 without a discriminator.
    """
    l1 = l1_loss(true_ab, predicted_ab)
    if fake_logits is None:
        adversarial = ops.zeros((), dtype="float32")
    else:
        adversarial = _cross_entropy(ops.ones_like(fake_logits, dtype="float32"), fake_logits)
    total = adversarial + l1_weight * l1
    if chroma_weight:
        total = total + chroma_weight * chroma_loss(true_ab, predicted_ab, chroma_penalty)
    return total, adversarial, l1


def discriminator_accuracy(real_logits, fake_logits):
    """Fractions of real patches judged real and of fake patches judged fake (logit sign)."""
    real_accuracy = ops.mean(ops.cast(real_logits > 0, "float32"))
    fake_accuracy = ops.mean(ops.cast(fake_logits < 0, "float32"))
    return real_accuracy, fake_accuracy


def batch_psnr(true_rgb, predicted_rgb, max_db=100.0):
    """Mean over the batch of each image's PSNR in dB, for RGB in [0, 1]; identical images give `max_db`.

    The `val_psnr` of training, in `keras.ops` on the device; `kcolor.evaluation.psnr` is the host-side metric
    of the reports.
    """
    squared_error = ops.square(ops.cast(true_rgb, "float32") - ops.cast(predicted_rgb, "float32"))
    mse = ops.mean(ops.reshape(squared_error, (ops.shape(squared_error)[0], -1)), axis=-1)
    floor = 10.0 ** (-max_db / 10.0)
    return ops.mean(-10.0 * ops.log(ops.maximum(mse, floor)) / ops.log(10.0))
