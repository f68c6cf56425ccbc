"""The options of a training run (`TrainConfig`, the `kcolor train` options) and how a run resumes with them.

`resume_config` is the one place that says which options a resumed run trains with (the run's config.json, with
the options given now on top), for `kcolor train --resume` and `train(TrainConfig(..., resume=True))` alike;
`check_resumable` says whether they fit the run's checkpoint.

Kept apart from `kcolor.training` (which has these names too), and importing neither Keras nor TensorFlow, so
that `kcolor train --help` and a mistyped option answer at once: the defaults below are the ones the command line
shows.
"""

import dataclasses
import json
from pathlib import Path

CHROMA_PENALTIES = ("absolute", "squared")  # kcolor.gan.losses.CHROMA_PENALTIES, without importing Keras

DEFAULT_L1_WARMUP_FRACTION = 2 / 3
"""Share of a run's epochs that the recipe trains with L1 alone before the GAN game starts (see TrainConfig)."""

MIXED_PRECISION_POLICIES = {"off": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}

RESUME_FIELDS = (
    "dataset", "preset", "image_size", "width_multiplier", "batch_size", "steps_per_epoch", "l1_only", "seed",
    "generator_ema", "discriminator_spectral_norm",
)  # fmt: skip
"""Options that a resumed run must share with the run it continues (they fix the model's shape or the data)."""


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run (the `kcolor train` options).

    The defaults are kcolor's training recipe: the paper's networks, Adam 2e-4 / beta_1 0.5, one-sided label
    smoothing 0.9 and one generator update per discriminator update, changed in four ways that measured better
    on CIFAR-10: batch size 32 (the `nazeri-cifar` preset's), an L1-only warm-up for the first two thirds of the
    epochs, lambda = 500, and a moving average of the generator's weights (momentum 0.99), which is what is
    saved. The paper's recipe is `batch_size=128, l1_weight=100, l1_warmup_epochs=0, generator_ema=0`. How each
    default was chosen, with its measurements: docs/TRAINING.md.

    Attributes:
        out: Run folder.
        dataset: Dataset spec for `kcolor.data.load_dataset` (`sample`, `cifar10`, `folder:PATH`, ...).
        val_dataset: Spec of the validation data; default: the validation split of `dataset`.
        preset: Architecture preset.
        image_size: Training crop size; default: the preset's.
        width_multiplier: Scales every block's filters.
        epochs: Epochs to train (in total, counting epochs before a resume).
        batch_size: Default: the preset's (`nazeri-cifar`: 32; the paper's 128).
        steps_per_epoch: Batches per epoch (default: one pass over the training split).
        l1_only: Train the L1-only U-Net baseline instead of the GAN.
        initial_generator: Start the generator from these weights instead of random ones: a run folder or a
            generator `.keras` file of the same preset and width. With `l1_warmup_epochs=0`, this trains the GAN
            game on its own after an L1-only run, as the photo runs with a spectral discriminator were
            (docs/RESULTS.md). Only a fresh start reads it: a resumed run continues from its checkpoint.
        discriminator_spectral_norm: Spectrally normalise every discriminator convolution instead of
            batch-normalising it (`Preset.discriminator_spectral_norm`); default (None): the preset's.
        generator_learning_rate, discriminator_learning_rate, beta_1: Adam settings.
        l1_weight: lambda of the L1 term; default: the preset's recipe value (`Preset.l1_weight`).
        chroma_weight: Weight of a term on the chroma |ab| alone (`kcolor.gan.losses.chroma_loss`), which
            asks for the true amount of color whatever the hue; 0 (the default): the paper's loss.
        chroma_penalty: That term's penalty, `"absolute"` or `"squared"` (`chroma_loss`).
        label_smoothing: Target of real patches for the discriminator.
        generator_steps: Generator updates per discriminator update.
        l1_warmup_epochs: Epochs at the start in which the generator learns from L1 alone, before the GAN game
            starts with an untrained discriminator (a `fit` of its own: docs/TRAINING.md). Default (None):
            `default_l1_warmup_epochs(epochs)`; a resumed run keeps the number it started with.
        generator_ema: Momentum of an exponential moving average of the generator's weights (0: none). The
            saved generator, the sample grids and `TrainResult.gan` use the average; the per-epoch validation
            metrics in `history.csv` are those of the trained weights.
        mixed_precision: `off`, `bfloat16`, `float16` or `auto` (float16 on a GPU, bfloat16
            on a CPU with native bfloat16, else off: `kcolor.devices.default_mixed_precision_policy`).
        jit_compile: XLA-compile the train step: `True`, `False` or `"auto"` (on for JAX and for TensorFlow
            with a GPU, off for TensorFlow on a CPU, where XLA is slower; `kcolor.devices.default_jit_compile`).
        seed: Seeds weights, dropout, data order and augmentation.
        resume: Continue from the run folder's checkpoint (start afresh when it has none); options left to the
            run (`l1_warmup_epochs`) come from its config.json (`resume_config`).
        data_dir: TFDS data folder.
        sample_count: Validation images shown in the per-epoch sample grids.
        validation_images: Validation images scored at the end of every epoch (`val_l1`, `val_psnr`); default:
            the whole validation split (CIFAR-10: 10,000, a noticeable share of a short run on a CPU).
        verbose: Keras `fit` verbosity (1: progress bar).
        checkpoint_every: Also checkpoint every this many steps within an epoch (0: at epoch ends only).
        keep_generators: Also keep every epoch's generator in `RUN/generators/epoch_NNN.keras`, to choose on
            held-out photos where the GAN game stops.
        deterministic: Use deterministic ops (TensorFlow), so that the same run gives the same weights.
        distribute: Data-parallel training over several devices (`kcolor.distribution.KINDS`: `none`, `auto`,
            `mirrored`, `multi-worker`, `data-parallel`); `batch_size` is then the global batch.

    Example:

    ```python
    config = TrainConfig(out="runs/demo", dataset="sample", width_multiplier=0.25, epochs=2)
    resumed = dataclasses.replace(config, epochs=4, resume=True)  # continues runs/demo to 4 epochs
    ```
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
    initial_generator: str = None
    discriminator_spectral_norm: bool = None
    generator_learning_rate: float = 2e-4
    discriminator_learning_rate: float = 2e-4
    beta_1: float = 0.5
    l1_weight: float = None
    chroma_weight: float = 0.0
    chroma_penalty: str = "absolute"
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
    keep_generators: bool = False
    deterministic: bool = False
    distribute: str = "none"

    def resolved(self):
        """A copy with the preset's defaults (and a resumed run's warm-up) filled in, validated.

        Returns:
            A new `TrainConfig` without None in `image_size`, `batch_size`, `l1_weight`,
            `discriminator_spectral_norm` and `l1_warmup_epochs`.

        Raises:
            ValueError: an option is out of range or does not fit the preset or the backend (with advice).
        """
        from kcolor.distribution import resolve_kind
        from kcolor.models.presets import check_image_size, get_preset

        preset = get_preset(self.preset)
        config = dataclasses.replace(
            self,
            image_size=self.image_size or preset.image_size,
            batch_size=self.batch_size or preset.batch_size,
            l1_weight=preset.l1_weight if self.l1_weight is None else self.l1_weight,
            discriminator_spectral_norm=(
                preset.discriminator_spectral_norm
                if self.discriminator_spectral_norm is None
                else self.discriminator_spectral_norm
            ),
        )
        check_image_size(config.image_size, config.image_size, preset)
        minimums = {
            "epochs": 0, "batch_size": 1, "generator_steps": 1, "l1_warmup_epochs": 0, "checkpoint_every": 0, "seed": 0,
        }  # fmt: skip
        if config.l1_warmup_epochs is None:
            config.l1_warmup_epochs = _resumed_l1_warmup_epochs(config)
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
        if not 0 <= config.chroma_weight < float("inf"):
            raise ValueError(f"chroma_weight must be zero or a positive number, got {config.chroma_weight}.")
        if config.chroma_penalty not in CHROMA_PENALTIES:
            raise ValueError(
                f"chroma_penalty must be one of {', '.join(CHROMA_PENALTIES)}, got {config.chroma_penalty!r}."
            )
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
    """The recipe's L1-only warm-up for a run of `epochs` epochs: the first DEFAULT_L1_WARMUP_FRACTION of them.

    Args:
        epochs: Epochs of the whole run.

    Returns:
        The number of warm-up epochs, an int.
    """
    return int(epochs * DEFAULT_L1_WARMUP_FRACTION)


def read_run_config(run_dir):
    """The options a run folder was trained with.

    Args:
        run_dir: The run folder.

    Returns:
        Its `config.json` as a dict, or None when it has none.

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


def resume_config(out, overrides=None):
    """How a run resumes: the `TrainConfig` that continues the run in `out`.

    The run's `config.json` gives the options it was trained with, and `overrides` replace some of them: `kcolor
    train --resume` passes the options given on its command line (so `--epochs 30` extends a run and everything
    else stays as it was), and `TrainConfig.resolved()` reads what a resumed config leaves to the run
    (`l1_warmup_epochs`) from here. A run folder without `config.json` resumes with the `TrainConfig` defaults
    under `overrides`. `train` then checks that the result fits the checkpoint (`check_resumable`) and restores
    it.

    Args:
        out: The run folder.
        overrides: `{field: value}` of `TrainConfig` options that replace the saved ones (default: none).

    Returns:
        A `TrainConfig` with `out=out` and `resume=True`.

    Raises:
        ValueError: `config.json` exists but cannot be read or parsed.

    Example:

    ```python
    config = resume_config("runs/demo", {"epochs": 30})
    result = train(config)
    ```
    """
    known = {field.name for field in dataclasses.fields(TrainConfig)}
    saved = {name: value for name, value in (read_run_config(out) or {}).items() if name in known}
    return TrainConfig(**{**saved, **(overrides or {}), "out": out, "resume": True})


def check_resumable(config):
    """Checks that `config` can continue the run in `config.out` (whose checkpoint it is about to restore).

    Args:
        config: The resumed run's `TrainConfig`.

    Raises:
        ValueError: `config` differs from the run's `config.json` in a `RESUME_FIELDS` option (the shape of the
            model or the data), or `config.json` cannot be read.
    """
    saved = read_run_config(config.out)
    if saved is None:
        return
    differences = [
        f"{name} {saved.get(name)!r} (now {getattr(config, name)!r})"
        for name in RESUME_FIELDS
        if name in saved and saved[name] != getattr(config, name)
    ]
    if differences:
        raise ValueError(
            f"cannot resume {Path(config.out)}: it was trained with {', '.join(differences)}. Resume with the same "
            "options (`kcolor train --resume --out RUN` reuses them) or train into another --out."
        )


def _resumed_l1_warmup_epochs(config):
    """The warm-up of the run that `config` resumes (from its config.json), else the recipe's default.

    An unreadable config.json gives the default here; `train` reports it when it checks the run can be resumed.
    """
    default = default_l1_warmup_epochs(config.epochs)
    if not config.resume:
        return default
    try:
        saved = resume_config(config.out).l1_warmup_epochs
    except ValueError:
        return default
    return saved if isinstance(saved, int) else default
