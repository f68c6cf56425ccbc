"""The options of a training run (`TrainConfig`, the `kcolor train` options) and what reads them back.

Kept apart from `kcolor.training` (which has these names too), and importing neither Keras nor TensorFlow, so
that `kcolor train --help` and a mistyped option answer at once: the defaults below are the ones the command line
shows.
"""

import dataclasses
import json
from pathlib import Path

DEFAULT_L1_WARMUP_FRACTION = 2 / 3
"""Share of a run's epochs that the recipe trains with L1 alone before the GAN game starts (see TrainConfig)."""

MIXED_PRECISION_POLICIES = {"off": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}

RESUME_FIELDS = (
    "dataset", "preset", "image_size", "width_multiplier", "batch_size", "steps_per_epoch", "l1_only", "seed",
    "generator_ema",
)  # fmt: skip
"""Options that a resumed run must share with the run it continues (they fix the model's shape or the data)."""


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run (the `kcolor train` options).

    The defaults are kcolor's training recipe: the paper's networks, Adam 2e-4 / beta_1 0.5, one-sided label
    smoothing 0.9 and one generator update per discriminator update, changed in four ways that measured better
    on CIFAR-10 (docs/RESULTS.md: width 0.5, 15 epochs, chosen with two seeds on 454 images held out of the
    training split; the final table uses a validation split never used for training or selection):

    - **Batch size 32** (the `nazeri-cifar` preset's `batch_size`; the paper's 128): four times the updates per
      epoch. With 4.1k training images it gave the L1 U-Net 0.3-0.5 dB more PSNR and the GANs more color at
      about the same PSNR; it was the only change that moved the color-versus-PSNR frontier.
    - **L1 warm-up** (`l1_warmup_epochs`, two thirds of the epochs): the generator first learns as the L1-only
      U-Net, then the GAN game starts with an untrained discriminator (DeOldify's "NoGAN"). Its epochs cost about
      half a GAN epoch. With lambda 100 it beat a GAN from scratch by 1-2 dB; with lambda 300-500 and the average
      below, the difference was within the seed spread (at batch 32, lambda 500: 0.2 dB more PSNR on average at
      the same color; `l1_warmup_epochs=0` trains from scratch). A discriminator trained *through* the warm-up
      was so certain at the switch that it wrecked the generator (validation PSNR 23.9 dB at the switch,
      20.7-22.8 dB in the five epochs after it), so it waits untrained.
    - **lambda = 500** (`l1_weight`; the paper's 100): a larger lambda trades color for PSNR. At batch 32,
      lambda 300 / 500 / 700 gave a mean PSNR of 24.02 / 24.24 / 24.27 dB (gray: 24.28) for a colorfulness of
      21.3 / 18.7 / 17.6 (the U-Net: 12.9): 500 is the knee.
    - **Moving average of the generator's weights** (`generator_ema` 0.99), which is what is saved: +0.25 to
      +0.4 dB PSNR over the last trained weights of the adversarial phase, which oscillate from epoch to epoch
      and drift down as the discriminator wins.

    With these, over five seeds on the final validation split, the GAN's PSNR is a median 0.16 dB above the
    gray baseline's (-0.07 to +0.29 dB) and it is 1.36-1.60x as colorful as the L1-only U-Net at a 0.39-0.61 dB
    PSNR cost. The paper's recipe is `batch_size=128, l1_weight=100, l1_warmup_epochs=0, generator_ema=0`: as
    colorful as real photos, 2.2 dB below gray.

    Attributes:
        out: Run folder.
        dataset: Dataset spec for `kcolor.data.load_dataset` (`sample`, `cifar10`, `folder:PATH`, ...).
        val_dataset: Spec of the validation data; default: the validation split of `dataset`.
        preset: Architecture preset.
        image_size: Training crop size; default: the preset's.
        width_multiplier: Scales every block's filters.
        epochs: Epochs to train (in total, counting epochs before a resume).
        batch_size: Default: the preset's (`nazeri-cifar`: 32, see above; the paper's 128).
        steps_per_epoch: Batches per epoch (default: one pass over the training split).
        l1_only: Train the L1-only U-Net baseline instead of the GAN.
        generator_learning_rate, discriminator_learning_rate, beta_1: Adam settings.
        l1_weight: lambda of the L1 term; default: the preset's recipe value (`Preset.l1_weight`).
        label_smoothing: Target of real patches for the discriminator.
        generator_steps: Generator updates per discriminator update.
        l1_warmup_epochs: Epochs at the start in which the generator learns from L1 alone, before the GAN game
            starts with an untrained discriminator (`kcolor.callbacks.L1Warmup`). Default (None):
            `default_l1_warmup_epochs(epochs)`; a resumed run keeps the number it started with.
        generator_ema: Momentum of an exponential moving average of the generator's weights (0: none). The
            saved generator, the sample grids and `TrainResult.gan` use the average; the per-epoch validation
            metrics in `history.csv` are those of the trained weights.
        mixed_precision: `off`, `bfloat16`, `float16` or `auto` (float16 on a GPU, bfloat16
            on a CPU with native bfloat16, else off: `kcolor.devices.default_mixed_precision_policy`).
        jit_compile: XLA-compile the train step: `True`, `False` or `"auto"` (on for JAX and for TensorFlow
            with a GPU, off for TensorFlow on a CPU, where XLA is slower; `kcolor.devices.default_jit_compile`).
        seed: Seeds weights, dropout, data order and augmentation.
        resume: Continue from the run folder's checkpoint (start afresh when it has none).
        data_dir: TFDS data folder.
        sample_count: Validation images shown in the per-epoch sample grids.
        validation_images: Validation images scored at the end of every epoch (`val_l1`, `val_psnr`); default:
            the whole validation split (CIFAR-10: 10,000, a noticeable share of a short run on a CPU).
        verbose: Keras `fit` verbosity (1: progress bar).
        checkpoint_every: Also checkpoint every this many steps within an epoch (0: at epoch ends only).
        deterministic: Use deterministic ops (TensorFlow), so that the same run gives the same weights.
        distribute: Data-parallel training over several devices (`kcolor.distribution.KINDS`: `none`, `auto`,
            `mirrored`, `multi-worker`, `data-parallel`); `batch_size` is then the global batch.
    """

    out: str = "runs/demo"
    dataset: str = "sample"
    val_dataset: str = None
    preset: str = "nazeri-cifar"
    image_size: int = None
    width_multiplier: float = 1.0
    epochs: int = 15
    batch_size: int = None
    steps_per_epoch: int = None
    l1_only: bool = False
    generator_learning_rate: float = 2e-4
    discriminator_learning_rate: float = 2e-4
    beta_1: float = 0.5
    l1_weight: float = None
    label_smoothing: float = 0.9
    generator_steps: int = 1
    l1_warmup_epochs: int = None
    generator_ema: float = 0.99
    mixed_precision: str = "off"
    jit_compile: bool | str = "auto"
    seed: int = 0
    resume: bool = False
    data_dir: str = None
    sample_count: int = 8
    validation_images: int = None
    verbose: int = 1
    checkpoint_every: int = 1000
    deterministic: bool = False
    distribute: str = "none"

    def resolved(self):
        """A copy with the preset's defaults filled in, validated; raises `ValueError` with advice."""
        from kcolor.distribution import resolve_kind
        from kcolor.models.presets import check_image_size, get_preset

        preset = get_preset(self.preset)
        config = dataclasses.replace(
            self,
            image_size=self.image_size or preset.image_size,
            batch_size=self.batch_size or preset.batch_size,
            l1_weight=preset.l1_weight if self.l1_weight is None else self.l1_weight,
        )
        check_image_size(config.image_size, config.image_size, preset)
        minimums = {
            "epochs": 0, "batch_size": 1, "generator_steps": 1, "l1_warmup_epochs": 0, "checkpoint_every": 0, "seed": 0,
        }  # fmt: skip
        if config.l1_warmup_epochs is None:
            config.l1_warmup_epochs = _saved_option(config, "l1_warmup_epochs", default_l1_warmup_epochs(config.epochs))
        for name, minimum in minimums.items():
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}.")
        if config.steps_per_epoch is not None and config.steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be positive, got {config.steps_per_epoch}.")
        for name in ("width_multiplier", "generator_learning_rate", "discriminator_learning_rate"):
            if not 0 < getattr(config, name) < float("inf"):
                raise ValueError(f"{name} must be a positive number, got {getattr(config, name)}.")
        if not 0 <= config.generator_ema < 1:
            raise ValueError(f"generator_ema is a momentum in [0, 1), got {config.generator_ema}.")
        if not 0 <= config.l1_weight < float("inf"):
            raise ValueError(f"l1_weight must be zero or a positive number, got {config.l1_weight}.")
        if config.jit_compile not in (True, False, "auto"):
            raise ValueError(f'jit_compile must be true, false or "auto", got {config.jit_compile!r}.')
        resolve_kind(config.distribute)  # an unknown kind, or one this backend cannot run, fails here
        if config.mixed_precision not in (*MIXED_PRECISION_POLICIES, "auto"):
            raise ValueError(
                f"mixed_precision must be one of {', '.join((*MIXED_PRECISION_POLICIES, 'auto'))}, "
                f"got {config.mixed_precision!r}."
            )
        return config


def default_l1_warmup_epochs(epochs):
    """The recipe's L1-only warm-up for a run of `epochs` epochs: the first DEFAULT_L1_WARMUP_FRACTION of them."""
    return int(epochs * DEFAULT_L1_WARMUP_FRACTION)


def read_run_config(run_dir):
    """The options a run folder was trained with (its `config.json` as a dict), or None when it has none.

    Raises:
        ValueError: the file exists but cannot be read or parsed.
    """
    path = Path(run_dir) / "config.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {path} to resume the run: {error}") from None


def _saved_option(config, name, default):
    """`name` from the run folder's config.json when `config` resumes a run that has one, else `default`.

    An unreadable config.json gives `default` here; `train` reports it when it checks the run can be resumed.
    """
    if not config.resume:
        return default
    try:
        saved = read_run_config(config.out) or {}
    except ValueError:
        return default
    return saved.get(name) if isinstance(saved.get(name), int) else default
