"""One function that trains a colorization model into a run folder: what `kcolor train` and the notebooks use.

`train(TrainConfig(...))` loads the data (`kcolor.data`, through the resumable `kcolor.training_data` stream),
builds the preset's networks (`kcolor.models`), compiles a `ColorizationGAN` (or the L1-only U-Net) and calls
`fit`, writing everything a student needs into the run folder:

    RUN/config.json            the configuration, to reproduce or resume the run
    RUN/generator.keras        the generator, saved every epoch (for `kcolor colorize` / `evaluate`)
    RUN/checkpoint/            both networks, both optimizers, random and data state, for `--resume`
    RUN/history.csv            losses and validation metrics per epoch
    RUN/samples/epoch_NNN.png  gray | prediction | truth for fixed validation images
    RUN/logs/                  TensorBoard logs (TensorFlow backend)

Reliability. A checkpoint is written at every epoch end and every `checkpoint_every` steps, atomically (see
`kcolor.callbacks`). `resume=True` continues from it, in the middle of an epoch if that is where it was taken:
the interrupted epoch is finished first (a shorter `fit`), then the remaining epochs run. With
`deterministic=True` on a CPU (TensorFlow's deterministic ops; the data order and crops are always fixed by
the seed), a run that was killed and resumed ends with weights bit-identical to those of a run that never
stopped. Training stops at the first NaN or infinite loss with a message naming the epoch, step and metric;
only finite states are ever checkpointed. Running out of accelerator memory gives a message that suggests a
smaller batch or width. Only one `train` at a time may use a run folder.
"""

import contextlib
import csv
import dataclasses
import io
import json
from pathlib import Path

import keras

from kcolor.callbacks import (
    GeneratorSaver,
    L1Warmup,
    NonFiniteGuard,
    SampleGrid,
    TrainingCheckpoint,
    atomic_write,
    create_folder,
    remove_stale_temporaries,
)
from kcolor.distribution import (
    check_global_batch_size,
    describe_distribution,
    distribution_scope,
    resolve_kind,
    xla_allowed,
)
from kcolor.gan import ColorizationGAN
from kcolor.models import build_discriminator, build_generator, check_image_size, get_preset
from kcolor.training_data import DataPosition, TrainingStream, fit_input, training_batches

DEFAULT_L1_WARMUP_FRACTION = 2 / 3
"""Share of a run's epochs that the recipe trains with L1 alone before the GAN game starts (see TrainConfig)."""

MIXED_PRECISION_POLICIES = {"off": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}

RESUME_FIELDS = (
    "dataset", "preset", "image_size", "width_multiplier", "batch_size", "steps_per_epoch", "l1_only", "seed",
    "generator_ema",
)  # fmt: skip
"""Options that a resumed run must share with the run it continues (they fix the model's shape or the data)."""


class OutOfMemoryError(MemoryError):
    """The accelerator (or the host) ran out of memory during training; the message says what to change."""


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
    verbose: int = 1
    checkpoint_every: int = 1000
    deterministic: bool = False
    distribute: str = "none"

    def resolved(self):
        """A copy with the preset's defaults filled in, validated; raises `ValueError` with advice."""
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


@dataclasses.dataclass
class TrainResult:
    """What `train` produced: the Keras history and the paths it wrote.

    Attributes:
        resumed_from: Where the run continued from (e.g. `epoch 2, step 40`), or None for a fresh start.
        stopped_early_reason: The message of a training stopped by a non-finite loss, or None.
    """

    gan: ColorizationGAN
    history: dict
    run_dir: Path
    generator_path: Path
    history_path: Path
    samples_dir: Path
    checkpoint_dir: Path = None
    resumed_from: str = None
    stopped_early_reason: str = None


def _dtype_policy(mixed_precision):
    if mixed_precision == "auto":
        from kcolor.devices import default_mixed_precision_policy

        return default_mixed_precision_policy()
    return MIXED_PRECISION_POLICIES[mixed_precision]


def build_gan(config):
    """The compiled `ColorizationGAN` (or L1-only U-Net) that `config` describes."""
    generator = build_generator(config.preset, width_multiplier=config.width_multiplier)
    discriminator = (
        None if config.l1_only else build_discriminator(config.preset, width_multiplier=config.width_multiplier)
    )
    gan = ColorizationGAN(generator, discriminator)
    average = dict(use_ema=True, ema_momentum=config.generator_ema) if config.generator_ema else {}
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(config.generator_learning_rate, beta_1=config.beta_1, **average),
        discriminator_optimizer=keras.optimizers.Adam(config.discriminator_learning_rate, beta_1=config.beta_1),
        l1_weight=config.l1_weight,
        label_smoothing=config.label_smoothing,
        generator_steps=config.generator_steps,
        jit_compile=config.jit_compile,
    )
    return gan


def enable_determinism():
    """Makes the backend's ops deterministic, so the same seed gives the same weights on the same machine.

    TensorFlow: `tf.config.experimental.enable_op_determinism()` (for the whole process; ops without a
    deterministic kernel then raise an error instead of running). JAX is deterministic on CPUs; on GPUs set
    `XLA_FLAGS=--xla_gpu_deterministic_ops=true` before JAX starts.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def _tensorboard_callback(log_dir):
    if keras.backend.backend() != "tensorflow":
        return []  # Keras's TensorBoard callback writes summaries with TensorFlow
    return [keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False)]


@contextlib.contextmanager
def _run_folder_lock(run_dir):
    """Holds an exclusive lock on the run folder (released by the OS even when the process is killed)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the user must not start two runs in one folder
        yield
        return
    with open(run_dir / ".lock", "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ValueError(
                f"another `kcolor train` is using {run_dir}; wait for it to finish or choose another --out."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _check_resumable(run_dir, config):
    """Raises `ValueError` when `config` differs from the run's `config.json` in a `RESUME_FIELDS` option."""
    saved = read_run_config(run_dir)
    if saved is None:
        return
    differences = [
        f"{name} {saved.get(name)!r} (now {getattr(config, name)!r})"
        for name in RESUME_FIELDS
        if name in saved and saved[name] != getattr(config, name)
    ]
    if differences:
        raise ValueError(
            f"cannot resume {run_dir}: it was trained with {', '.join(differences)}. Resume with the same "
            "options (`kcolor train --resume --out RUN` reuses them) or train into another --out."
        )


def _truncate_history(path, completed_epochs):
    """Keeps the header and the rows of epochs before `completed_epochs` in `history.csv` (atomically).

    A killed run may have logged an epoch it did not checkpoint, or half a line; the resumed run logs it again.
    """
    if not path.is_file():
        return
    rows = list(csv.reader(io.StringIO(path.read_text(errors="replace"))))
    if not rows:
        return
    header, kept = rows[0], [rows[0]]
    for row in rows[1:]:
        if len(row) == len(header) and row[0].isdigit() and int(row[0]) < completed_epochs:
            kept.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(kept)
    atomic_write(path, lambda temporary: Path(temporary).write_text(buffer.getvalue()))


def _out_of_memory_message(config):
    smaller_width = config.width_multiplier / 2
    return (
        f"out of memory while training with batch size {config.batch_size} at "
        f"{config.image_size} px (preset {config.preset}, width multiplier {config.width_multiplier}). "
        f"Try a smaller --batch-size (e.g. {max(1, config.batch_size // 2)}), a smaller --width-multiplier "
        f"(e.g. {smaller_width:g}), a smaller --image-size, or --mixed-precision."
    )


def is_out_of_memory(error):
    """True for the backends' out-of-memory errors (TensorFlow `ResourceExhaustedError`, XLA
    `RESOURCE_EXHAUSTED`, a host `MemoryError`)."""
    if isinstance(error, MemoryError):
        return True
    text = str(error)
    return type(error).__name__ == "ResourceExhaustedError" or "RESOURCE_EXHAUSTED" in text or "Out of memory" in text


def _merge_history(history, new):
    for name, values in new.items():
        history.setdefault(name, []).extend(values)


def train(config):
    """Trains the model `config` describes and writes the run folder (see the module docstring).

    Args:
        config: A `TrainConfig`.

    Returns:
        A `TrainResult`.

    Raises:
        ValueError: invalid options (with what to do instead), a run folder that holds another run (without
            `resume`) or is in use, data that cannot be loaded or has fewer images than one batch.
        OutOfMemoryError: the accelerator ran out of memory; the message suggests a smaller batch or width.
        OSError: the run folder cannot be written.

    Example:

    ```python
    result = train(TrainConfig(out="runs/demo", dataset="sample", width_multiplier=0.25, epochs=2))
    print(result.history["g_l1"])
    ```
    """
    config = config.resolved()
    run_dir = Path(config.out)
    create_folder(run_dir, "the run folder")
    with _run_folder_lock(run_dir), distribution_scope(config.distribute) as distribution:
        check_global_batch_size(config.batch_size, distribution)
        if distribution is not None:
            print(f"Training on {describe_distribution(distribution)}.")
            config = dataclasses.replace(config, jit_compile=xla_allowed(distribution, config.jit_compile))
        try:
            return _train_in(run_dir, config)
        except Exception as error:
            if is_out_of_memory(error):
                raise OutOfMemoryError(_out_of_memory_message(config)) from error
            raise


def _train_in(run_dir, config):
    from kcolor.data import load_arrays, load_dataset

    checkpoint_dir = run_dir / "checkpoint"
    state = TrainingCheckpoint.read_state(checkpoint_dir)
    if state is not None and not config.resume:
        raise ValueError(
            f"{run_dir} already holds a training run. Pass --resume to continue it, or choose another --out."
        )
    if state is not None:
        _check_resumable(run_dir, config)
    elif config.resume:
        print(f"No checkpoint in {checkpoint_dir}: starting a new run.")
    result = TrainResult(
        gan=None, history={}, run_dir=run_dir, generator_path=run_dir / "generator.keras",
        history_path=run_dir / "history.csv", samples_dir=run_dir / "samples", checkpoint_dir=checkpoint_dir,
    )  # fmt: skip
    if state is not None and int(state["epoch"]) >= config.epochs:
        print(f"{run_dir} has already trained {state['epoch']} epochs; nothing to do (pass a larger --epochs "
              "to train further).")
        return result
    for folder in (run_dir, result.samples_dir):
        remove_stale_temporaries(folder)
    config_text = json.dumps(dataclasses.asdict(config), indent=2)
    atomic_write(run_dir / "config.json", lambda temporary: Path(temporary).write_text(config_text))

    source = training_batches(
        config.dataset, image_size=config.image_size, batch_size=config.batch_size, seed=config.seed,
        data_dir=config.data_dir,
    )  # fmt: skip
    steps_per_epoch = (
        config.steps_per_epoch
        or (state or {}).get("steps_per_epoch")
        or source.batches_per_pass
        or source.count_batches_per_pass()
    )
    load = dict(image_size=config.image_size, data_dir=config.data_dir)
    val_spec = config.val_dataset or config.dataset
    validation_data = load_dataset(val_spec, "validation", batch_size=config.batch_size, seed=config.seed, **load)
    sample_images, _ = load_arrays(val_spec, "validation", limit=config.sample_count, seed=config.seed, **load)

    if config.deterministic:
        enable_determinism()
    keras.utils.set_random_seed(config.seed)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(_dtype_policy(config.mixed_precision))
    try:
        gan = build_gan(config)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    result.gan = gan

    restored = TrainingCheckpoint.restore(checkpoint_dir, gan) if state is not None else None
    start_step, start_position, initial_epoch = 0, DataPosition(), 0
    if restored is not None:
        result.resumed_from = restored.describe()
        initial_epoch, start_step = restored.epoch, restored.epoch * steps_per_epoch + restored.step
        start_position = restored.data_position or DataPosition(0, start_step)
        _truncate_history(result.history_path, restored.epoch)
        print(f"Resuming {run_dir} from {result.resumed_from} (global step {start_step}).")
    stream = TrainingStream(source, steps_per_epoch, start_step=start_step, start_position=start_position)

    guard = NonFiniteGuard(checkpoint_dir)
    checkpoint = TrainingCheckpoint(checkpoint_dir, steps_per_epoch, config.checkpoint_every, stream.position_of)
    callbacks = [
        L1Warmup(config.l1_warmup_epochs),
        guard,
        keras.callbacks.CSVLogger(str(result.history_path), append=restored is not None),
        SampleGrid(sample_images, result.samples_dir),
        GeneratorSaver(result.generator_path),
        checkpoint,
        *_tensorboard_callback(run_dir / "logs"),
    ]
    fit = dict(validation_data=validation_data, verbose=config.verbose, shuffle=False)

    def fit_stream(**options):
        data, stream_callbacks = fit_input(stream)  # (first: the stream learns where each epoch begins)
        return gan.fit(data, callbacks=[*stream_callbacks, *callbacks], **fit, **options)

    if restored is not None and restored.step:  # finish the interrupted epoch first
        stream.steps_per_epoch = steps_per_epoch - restored.step
        guard.step_offset = checkpoint.step_offset = restored.step
        checkpoint.metric_values_to_restore = restored.metric_values
        history = fit_stream(epochs=initial_epoch + 1, initial_epoch=initial_epoch)
        _merge_history(result.history, history.history)
        stream.steps_per_epoch = steps_per_epoch
        guard.step_offset = checkpoint.step_offset = 0
        initial_epoch += 1
    if guard.message is None and checkpoint.message is None and initial_epoch < config.epochs:
        history = fit_stream(epochs=config.epochs, initial_epoch=initial_epoch)
        _merge_history(result.history, history.history)
    result.stopped_early_reason = guard.message or checkpoint.message
    if result.stopped_early_reason is None:
        gan.use_generator_average()  # the result's generator is the one saved in generator.keras
    return result
