"""One function that trains a colorization model into a run folder: what `kcolor train` and the notebooks use.

`train(TrainConfig(...))` loads the data (`kcolor.data`, through the resumable `kcolor.training_data` stream),
builds the preset's networks (`kcolor.models`), compiles a `ColorizationGAN` (or the L1-only U-Net) and trains
it with `fit` (one `fit` for the L1 warm-up and one for the GAN game, so that the train step changes between two
calls, never inside one), writing everything a student needs into the run folder:

    RUN/config.json            the configuration, to reproduce or resume the run
    RUN/generator.keras        the generator, saved every epoch (for `kcolor colorize` / `evaluate`)
    RUN/checkpoint/            both networks, both optimizers, random and data state, for `--resume`
    RUN/history.csv            losses and validation metrics per epoch
    RUN/samples/epoch_NNN.png  gray | prediction | truth for fixed validation images
    RUN/generators/epoch_NNN.keras  every epoch's generator, with `keep_generators=True`
    RUN/logs/                  TensorBoard logs (TensorFlow backend)

Reliability. A checkpoint is written at every epoch end and every `checkpoint_every` steps, atomically (see
`kcolor.checkpoint` and `kcolor.run_files`). `resume=True` continues from it (with the options that
`kcolor.training_config.resume_config` describes), in the middle of an epoch if that is where it was taken:
the interrupted epoch is finished first (a shorter `fit`), then the remaining epochs run. With
`deterministic=True` on a CPU (TensorFlow's deterministic ops; the data order and crops are always fixed by
the seed), a run that was killed and resumed ends with weights bit-identical to those of a run that never
stopped. Training stops at the first NaN or infinite loss with a message naming the epoch, step and metric;
only finite states are ever checkpointed. Running out of accelerator memory gives a message that suggests a
smaller batch or width. Only one `train` at a time may use a run folder.
"""

import contextlib
import dataclasses
from pathlib import Path

import keras

from kcolor.callbacks import GeneratorSaver, NonFiniteGuard, RunProgressBar, SampleGrid
from kcolor.checkpoint import TrainingCheckpoint
from kcolor.distribution import check_global_batch_size, describe_distribution, distribution_scope, xla_allowed
from kcolor.gan import ColorizationGAN
from kcolor.model_files import copy_generator_weights
from kcolor.models import build_discriminator, build_generator, get_preset
from kcolor.run_files import create_folder, remove_stale_temporaries, truncate_history, write_json
from kcolor.training_config import (  # noqa: F401 (the options live in a light module; kcolor.training has them too)
    DEFAULT_L1_WARMUP_FRACTION,
    MIXED_PRECISION_POLICIES,
    RESUME_FIELDS,
    TrainConfig,
    check_resumable,
    default_l1_warmup_epochs,
    read_run_config,
    resume_config,
)
from kcolor.training_data import DataPosition, TrainingStream, fit_input, training_batches


class OutOfMemoryError(MemoryError):
    """The accelerator (or the host) ran out of memory during training; the message says what to change."""


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
    """The compiled `ColorizationGAN` (or L1-only U-Net) that `config` describes.

    Args:
        config: A resolved `TrainConfig` (`TrainConfig.resolved()`).

    Returns:
        A compiled `ColorizationGAN`, untrained.
    """
    generator = build_generator(config.preset, width_multiplier=config.width_multiplier)
    preset = dataclasses.replace(
        get_preset(config.preset), discriminator_spectral_norm=config.discriminator_spectral_norm
    )
    discriminator = None if config.l1_only else build_discriminator(preset, width_multiplier=config.width_multiplier)
    gan = ColorizationGAN(generator, discriminator)
    average = dict(use_ema=True, ema_momentum=config.generator_ema) if config.generator_ema else {}
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(config.generator_learning_rate, beta_1=config.beta_1, **average),
        discriminator_optimizer=keras.optimizers.Adam(config.discriminator_learning_rate, beta_1=config.beta_1),
        l1_weight=config.l1_weight,
        chroma_weight=config.chroma_weight,
        chroma_penalty=config.chroma_penalty,
        label_smoothing=config.label_smoothing,
        generator_steps=config.generator_steps,
        jit_compile=config.jit_compile,
    )
    return gan


def enable_determinism():
    """Makes the backend's ops deterministic, so the same seed gives the same weights on the same machine.

    TensorFlow: `tf.config.experimental.enable_op_determinism()` (for the whole process until it is disabled;
    ops without a deterministic kernel then raise an error instead of running). `train` calls this for
    `deterministic=True` and restores the previous setting when it returns. JAX is deterministic on CPUs; on
    GPUs set `XLA_FLAGS=--xla_gpu_deterministic_ops=true` before JAX starts.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


@contextlib.contextmanager
def _tensorflow_training_settings():
    """Scopes two process-wide TensorFlow settings to one `train` call; nothing to do on other backends.

    - Grappler's remapper is off inside. With oneDNN on (TensorFlow's default on CPUs with AVX512_VNNI,
      AVX512_BF16, AVX_VNNI or AMX, e.g. recent Xeons; `TF_ENABLE_ONEDNN_OPTS=1` elsewhere), it first fuses a
      convolution and its BiasAdd into one `_FusedConv2D` that keeps the BiasAdd's name, then fuses that with
      the LeakyReLU after it, without checking that the gradient's `LeakyReluGrad` still reads the BiasAdd's
      output. In the training step of every block without batch norm (the first of the encoder and of the
      discriminator) the pass then fails ("remapper failed: INVALID_ARGUMENT: Mutation::Apply error: fanout
      '.../LeakyReluGrad' exist for missing node '.../BiasAdd'"), printed as an error line in a healthy run,
      and Grappler goes on without its result. Off, the step is as fast (docs/PERFORMANCE.md).
    - Op determinism (`enable_determinism`, for `deterministic=True`) is restored to what it was before.
    """
    if keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf
    # Private module: tf.config has no public query or switch-off for op determinism. Checked against
    # TensorFlow 2.20 and 2.21 (is_op_determinism_enabled, disable_op_determinism).
    from tensorflow.python.framework import config as tf_config

    determinism_was_on = tf_config.is_op_determinism_enabled()
    remapping = tf.config.optimizer.get_experimental_options().get("remapping", True)  # absent: on
    tf.config.optimizer.set_experimental_options({"remapping": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": remapping})
        if not determinism_was_on and tf_config.is_op_determinism_enabled():
            tf_config.disable_op_determinism()


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


def _out_of_memory_message(config):
    smaller_width = config.width_multiplier / 2
    return (
        f"out of memory while training with batch size {config.batch_size} at "
        f"{config.image_size} px (preset {config.preset}, width multiplier {config.width_multiplier}). "
        f"Try a smaller --batch-size (e.g. {max(1, config.batch_size // 2)}), a smaller --width-multiplier "
        f"(e.g. {smaller_width:g}), a smaller --image-size, or --mixed-precision."
    )


def is_out_of_memory(error):
    """Whether `error` is a backend's out-of-memory error.

    Args:
        error: An exception.

    Returns:
        True for TensorFlow's `ResourceExhaustedError`, XLA's `RESOURCE_EXHAUSTED`, and a host `MemoryError`.
    """
    if isinstance(error, MemoryError):
        return True
    text = str(error)
    return type(error).__name__ == "ResourceExhaustedError" or "RESOURCE_EXHAUSTED" in text or "Out of memory" in text


def _merge_history(history, new):
    for name, values in new.items():
        history.setdefault(name, []).extend(values)


def _fit_segments(initial_epoch, epochs, warmup_epochs=0, interrupted_steps=0):
    """The `fit` calls that train epochs `initial_epoch` to `epochs`: one per phase, so that the train step
    changes only between two calls (the L1 warm-up, then the GAN game), and a resumed run's interrupted epoch
    alone first. E.g. `_fit_segments(2, 6, 4, interrupted_steps=10)` is `[(2, 3), (3, 4), (4, 6)]`.

    Args:
        initial_epoch: Epochs completed so far.
        epochs: The run's length.
        warmup_epochs: Epochs of the L1-only warm-up (0 for none, and for the L1-only U-Net).
        interrupted_steps: Steps of epoch `initial_epoch` done before a resume (0 at an epoch boundary).

    Returns:
        The `(initial_epoch, epochs)` of each `fit`, in order; empty when there is nothing to train.
    """
    bounds = {initial_epoch, epochs, min(initial_epoch + bool(interrupted_steps), epochs)}
    if initial_epoch < warmup_epochs < epochs:
        bounds.add(warmup_epochs)
    bounds = sorted(bounds)
    return list(zip(bounds, bounds[1:]))


def train(config, callbacks=()):
    """Trains the model `config` describes and writes the run folder (see the module docstring).

    Args:
        config: A `TrainConfig`.
        callbacks: Extra `keras.callbacks.Callback`s for `fit`, after the run's own (e.g. one that shows the
            colors after every epoch in a notebook). Not saved in `config.json`.

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
    with (
        _run_folder_lock(run_dir),
        distribution_scope(config.distribute) as distribution,
        _tensorflow_training_settings(),
    ):
        check_global_batch_size(config.batch_size, distribution)
        if distribution is not None:
            print(f"Training on {describe_distribution(distribution)}.")
            config = dataclasses.replace(config, jit_compile=xla_allowed(distribution, config.jit_compile))
        try:
            return _train_in(run_dir, config, callbacks)
        except Exception as error:
            if is_out_of_memory(error):
                raise OutOfMemoryError(_out_of_memory_message(config)) from error
            raise


def _checkpoint_to_resume(run_dir, config):
    """The `state.json` of the checkpoint that `config` resumes, or None for a new run.

    The options themselves come from `kcolor.training_config.resume_config` (through `TrainConfig.resolved`
    or `kcolor train --resume`); this checks that they fit the run's checkpoint.

    Args:
        run_dir: The run folder.
        config: The resolved `TrainConfig`.

    Returns:
        The parsed `state.json`, or None when there is no checkpoint (a resumed run then starts afresh).

    Raises:
        ValueError: a checkpoint is there but `config` does not resume, or does not fit it
            (`check_resumable`), or its `state.json` or the run's `config.json` is damaged.
    """
    checkpoint_dir = run_dir / "checkpoint"
    state = TrainingCheckpoint.read_state(checkpoint_dir)
    if state is not None and not config.resume:
        raise ValueError(
            f"{run_dir} already holds a training run. Pass --resume to continue it, or choose another --out."
        )
    if state is not None:
        check_resumable(config)
    elif config.resume:
        print(f"No checkpoint in {checkpoint_dir}: starting a new run.")
    return state


def _train_in(run_dir, config, extra_callbacks=()):
    from kcolor.data import load_arrays, load_dataset

    checkpoint_dir = run_dir / "checkpoint"
    state = _checkpoint_to_resume(run_dir, config)
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
    write_json(run_dir / "config.json", dataclasses.asdict(config), indent=2)

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
    validation_data = load_dataset(
        val_spec, "validation", batch_size=config.batch_size, seed=config.seed, limit=config.validation_images, **load
    )
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
        truncate_history(result.history_path, restored.epoch)
        print(f"Resuming {run_dir} from {result.resumed_from} (global step {start_step}).")
    elif config.initial_generator:
        copy_generator_weights(config.initial_generator, gan.generator)
    stream = TrainingStream(source, steps_per_epoch, start_step=start_step, start_position=start_position)

    guard = NonFiniteGuard(checkpoint_dir)
    checkpoint = TrainingCheckpoint(checkpoint_dir, steps_per_epoch, config.checkpoint_every, stream.position_of)
    history_log = keras.callbacks.CSVLogger(str(result.history_path), append=restored is not None)
    callbacks = [
        guard,
        history_log,
        SampleGrid(sample_images, result.samples_dir),
        GeneratorSaver(result.generator_path, run_dir / "generators" if config.keep_generators else None),
        checkpoint,
        *_tensorboard_callback(run_dir / "logs"),
        *extra_callbacks,
        *([RunProgressBar(config.epochs)] if config.verbose else []),
    ]
    fit = dict(validation_data=validation_data, verbose=config.verbose, shuffle=False)
    warmup_epochs = 0 if gan.l1_only else config.l1_warmup_epochs
    interrupted = restored.step if restored is not None else 0
    for first, end in _fit_segments(initial_epoch, config.epochs, warmup_epochs, interrupted):
        if not gan.l1_only:
            gan.adversarial = first >= warmup_epochs  # between two fits: the next one traces the new phase's step
        offset = interrupted if first == initial_epoch else 0  # finishing the interrupted epoch, or 0
        stream.steps_per_epoch = steps_per_epoch - offset
        guard.step_offset = checkpoint.step_offset = offset
        checkpoint.metric_values_to_restore = restored.metric_values if offset else None
        data, stream_callbacks = fit_input(stream)  # (first: the stream learns where each epoch begins)
        history = gan.fit(data, callbacks=[*stream_callbacks, *callbacks], epochs=end, initial_epoch=first, **fit)
        _merge_history(result.history, history.history)
        history_log.append = True  # the next fit continues history.csv
        if gan.stop_training:  # a callback stopped the run (a non-finite loss or weight, or the user's)
            break
    result.stopped_early_reason = guard.message or checkpoint.message
    if result.stopped_early_reason is None:
        gan.use_generator_average()  # the result's generator is the one saved in generator.keras
    return result
