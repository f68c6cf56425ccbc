"""One function that trains a colorization model into a run folder: what `kcolor train` and the notebooks use.

`train(TrainConfig(...))` loads the data (`kcolor.data`), builds the preset's networks (`kcolor.models`),
compiles a `ColorizationGAN` (or the L1-only U-Net) and calls `fit`, writing everything a student needs into
the run folder:

    RUN/config.json            the configuration, to reproduce or resume the run
    RUN/generator.keras        the generator, saved every epoch (for `kcolor colorize` / `evaluate`)
    RUN/checkpoint/            both networks and both optimizers, for `--resume`
    RUN/history.csv            losses and validation metrics per epoch
    RUN/samples/epoch_NNN.png  gray | prediction | truth for fixed validation images
    RUN/logs/                  TensorBoard logs (TensorFlow backend)
"""

import dataclasses
import json
from pathlib import Path

import keras

from kcolor.callbacks import GeneratorSaver, NonFiniteGuard, SampleGrid, TrainingCheckpoint
from kcolor.gan import ColorizationGAN
from kcolor.models import build_discriminator, build_generator, check_image_size, get_preset

MIXED_PRECISION_POLICIES = {"off": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run (the `kcolor train` options).

    Attributes:
        out: Run folder.
        dataset: Dataset spec for `kcolor.data.load_dataset` (`sample`, `cifar10`, `folder:PATH`, ...).
        val_dataset: Spec of the validation data; default: the validation split of `dataset`.
        preset: Architecture preset.
        image_size: Training crop size; default: the preset's.
        width_multiplier: Scales every block's filters.
        epochs: Epochs to train (in total, counting epochs before a resume).
        batch_size: Default: the preset's (the paper's).
        steps_per_epoch: Limit the batches per epoch (default: the whole split).
        l1_only: Train the L1-only U-Net baseline instead of the GAN.
        generator_learning_rate, discriminator_learning_rate, beta_1: Adam settings.
        l1_weight: lambda of the L1 term.
        label_smoothing: Target of real patches for the discriminator.
        generator_steps: Generator updates per discriminator update.
        mixed_precision: `off`, `bfloat16`, `float16` or `auto` (float16 on a GPU, else bfloat16).
        jit_compile: XLA-compile the train step.
        seed: Seeds weights, data order and augmentation.
        resume: Continue from the run folder's checkpoint.
        data_dir: TFDS data folder.
        sample_count: Validation images shown in the per-epoch sample grids.
        verbose: Keras `fit` verbosity (1: progress bar).
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
    l1_weight: float = 100.0
    label_smoothing: float = 0.9
    generator_steps: int = 1
    mixed_precision: str = "off"
    jit_compile: bool = True
    seed: int = 0
    resume: bool = False
    data_dir: str = None
    sample_count: int = 8
    verbose: int = 1

    def resolved(self):
        """A copy with the preset's defaults filled in, validated; raises `ValueError` with advice."""
        preset = get_preset(self.preset)
        config = dataclasses.replace(
            self,
            image_size=self.image_size or preset.image_size,
            batch_size=self.batch_size or preset.batch_size,
        )
        check_image_size(config.image_size, config.image_size, preset)
        for name in ("epochs", "batch_size", "generator_steps"):
            if getattr(config, name) < (0 if name == "epochs" else 1):
                raise ValueError(f"{name} must be {'non-negative' if name == 'epochs' else 'positive'}, "
                                 f"got {getattr(config, name)}.")
        if config.steps_per_epoch is not None and config.steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be positive, got {config.steps_per_epoch}.")
        if config.mixed_precision not in (*MIXED_PRECISION_POLICIES, "auto"):
            raise ValueError(
                f"mixed_precision must be one of {', '.join((*MIXED_PRECISION_POLICIES, 'auto'))}, "
                f"got {config.mixed_precision!r}."
            )
        return config


@dataclasses.dataclass
class TrainResult:
    """What `train` produced: the Keras history and the paths it wrote."""

    gan: ColorizationGAN
    history: dict
    run_dir: Path
    generator_path: Path
    history_path: Path
    samples_dir: Path
    stopped_early_reason: str = None


def _dtype_policy(mixed_precision):
    if mixed_precision == "auto":
        from kcolor.devices import has_gpu

        return "mixed_float16" if has_gpu() else "mixed_bfloat16"
    return MIXED_PRECISION_POLICIES[mixed_precision]


def build_gan(config):
    """The compiled `ColorizationGAN` (or L1-only U-Net) that `config` describes."""
    generator = build_generator(config.preset, width_multiplier=config.width_multiplier)
    discriminator = (
        None if config.l1_only else build_discriminator(config.preset, width_multiplier=config.width_multiplier)
    )
    gan = ColorizationGAN(generator, discriminator)
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(config.generator_learning_rate, beta_1=config.beta_1),
        discriminator_optimizer=keras.optimizers.Adam(config.discriminator_learning_rate, beta_1=config.beta_1),
        l1_weight=config.l1_weight,
        label_smoothing=config.label_smoothing,
        generator_steps=config.generator_steps,
        jit_compile=config.jit_compile,
    )
    return gan


def _tensorboard_callback(log_dir):
    if keras.backend.backend() != "tensorflow":
        return []  # Keras's TensorBoard callback writes summaries with TensorFlow
    return [keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False)]


def train(config):
    """Trains the model `config` describes and writes the run folder (see the module docstring).

    Args:
        config: A `TrainConfig`.

    Returns:
        A `TrainResult`.

    Example:

    ```python
    result = train(TrainConfig(out="runs/demo", dataset="sample", width_multiplier=0.25, epochs=2))
    print(result.history["g_l1"])
    ```
    """
    from kcolor.data import load_arrays, load_dataset

    config = config.resolved()
    run_dir = Path(config.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_dir = run_dir / "checkpoint"
    if not config.resume and (checkpoint_dir / TrainingCheckpoint.STATE).exists():
        raise ValueError(
            f"{run_dir} already holds a training run. Pass --resume to continue it, or choose another --out."
        )
    (run_dir / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2))

    keras.utils.set_random_seed(config.seed)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(_dtype_policy(config.mixed_precision))
    try:
        gan = build_gan(config)
    finally:
        keras.config.set_dtype_policy(previous_policy)

    initial_epoch = TrainingCheckpoint.restore(checkpoint_dir, gan) if config.resume else 0

    load = dict(image_size=config.image_size, data_dir=config.data_dir)
    train_data = load_dataset(
        config.dataset, "train", batch_size=config.batch_size, seed=config.seed, drop_remainder=True, **load
    )
    val_spec = config.val_dataset or config.dataset
    validation_data = load_dataset(val_spec, "validation", batch_size=config.batch_size, seed=config.seed, **load)
    sample_images, _ = load_arrays(val_spec, "validation", limit=config.sample_count, seed=config.seed, **load)

    generator_path = run_dir / "generator.keras"
    history_path = run_dir / "history.csv"
    samples_dir = run_dir / "samples"
    guard = NonFiniteGuard()
    callbacks = [
        guard,
        keras.callbacks.CSVLogger(str(history_path), append=initial_epoch > 0),
        SampleGrid(sample_images, samples_dir),
        GeneratorSaver(generator_path),
        TrainingCheckpoint(checkpoint_dir),
        *_tensorboard_callback(run_dir / "logs"),
    ]
    history = gan.fit(
        train_data,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=config.steps_per_epoch,
        validation_data=validation_data,
        callbacks=callbacks,
        verbose=config.verbose,
    )
    return TrainResult(
        gan=gan,
        history=history.history,
        run_dir=run_dir,
        generator_path=generator_path,
        history_path=history_path,
        samples_dir=samples_dir,
        stopped_early_reason=guard.message,
    )
