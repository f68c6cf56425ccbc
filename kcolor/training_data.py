"""The training stream: batches addressed by global step, so that a run can resume in the middle of an epoch.

Keras `fit` asks for batches epoch by epoch. For a run that was killed and resumed to see exactly the batches
an uninterrupted run would have seen, the batch at every global training step must be reproducible without
replaying the training before it. `TrainingStream` provides that. It reads the training split in *passes*:
pass `n` is one shuffled, augmented traversal of the split whose order and crops are fixed by the seed and
`n` alone, and a `DataPosition(data_pass, index)` names batch `index` of pass `n`. Global step `g` of a run is
simply the `g`-th batch of the endless sequence pass 0, pass 1, ... A Keras epoch is `steps_per_epoch`
consecutive steps of that sequence (one pass by default), so epochs and passes need not line up. A checkpoint
stores the position of the next batch, and a resumed run starts its stream there.

Two kinds of source feed the stream:

* `RandomAccessBatches` for the local datasets (`sample`, `folder:PATH`, `npz:PATH`): any batch is computed
  directly from its position (`kcolor.data`'s samplers derive every order and crop from the seed, the pass
  and the item's place), so resuming costs nothing.
* `SequentialBatches` for TFDS datasets, which are `tf.data` pipelines read front to back. A fresh pipeline
  built with the same seed yields the same order on its `k`-th iteration (its shuffle and crop seeds advance
  once per iterator), so pass `n` is reached by opening and discarding `n` iterators, and batch `i` by reading
  and discarding the first `i` batches of that pass: no training, only data loading.

Not a second `kcolor.data.load_dataset`: that gives epochs of batches (and whole splits as arrays for
evaluation); this module addresses the training batches by global step, reading them through `kcolor.data`'s
own samplers (`kcolor.data.dataset.local_sampler`) and pipelines, so the preprocessing is the same.
"""

import dataclasses
import threading
from collections import OrderedDict

import keras

from kcolor.data import DatasetError, parse_spec

_CACHED_BATCHES = 8  # recent batches kept: Keras asks for the first two twice (to read their shapes)
_REMEMBERED_POSITIONS = 4096  # recent steps whose data position is remembered for checkpoints


@dataclasses.dataclass(frozen=True)
class DataPosition:
    """Batch `index` of pass `data_pass` over the training split.

    An index past the end of a pass (a pass of unknown length) means the same as the matching index of the
    following passes; `SequentialBatches` sorts that out when it reads.
    """

    data_pass: int = 0
    index: int = 0

    def to_json(self):
        """`[data_pass, index]`, for `state.json`."""
        return [self.data_pass, self.index]

    @classmethod
    def from_json(cls, value):
        """The position that `to_json` wrote."""
        data_pass, index = (int(number) for number in value)
        if data_pass < 0 or index < 0:
            raise ValueError(f"a data position has non-negative numbers, got {value!r}.")
        return cls(data_pass, index)


class RandomAccessBatches:
    """Batches of a local dataset computed from their position.

    Args:
        sampler: A `kcolor.data` sampler (`items(epoch, positions)`, `num_items`): `SampleSampler` or
            `ImageSourceSampler`. Its `epoch` is our data pass.
        batch_size: Images per batch; a pass has `num_items // batch_size` batches (the rest is left out).
        description: The dataset, for messages.
    """

    def __init__(self, sampler, batch_size, description):
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.description = description
        self.item_count = int(sampler.num_items)
        self.batches_per_pass = self.item_count // self.batch_size

    def batch(self, position):
        """The uint8 RGB images `(batch_size, S, S, 3)` at `position`."""
        first = position.index * self.batch_size
        images, _ = self.sampler.items(position.data_pass, range(first, first + self.batch_size))
        return images

    def batches(self, start):
        """Endless `(position, images)` pairs from `start` on."""
        data_pass, index = start.data_pass + start.index // self.batches_per_pass, start.index % self.batches_per_pass
        while True:
            position = DataPosition(data_pass, index)
            yield position, self.batch(position)
            index += 1
            if index == self.batches_per_pass:
                data_pass, index = data_pass + 1, 0


class SequentialBatches:
    """Batches of a `tf.data` pipeline (TFDS), reproduced by re-reading from a fresh pipeline.

    Args:
        make_dataset: Builds the seeded pipeline of batches (with `drop_remainder`); called again for
            every restart.
        nominal_batches_per_pass: Batches in a pass according to the dataset's metadata (a pipeline that
            leaves out grayscale images may deliver a few less), or None when unknown.
        description: The dataset, for messages.
    """

    def __init__(self, make_dataset, nominal_batches_per_pass, description):
        self.make_dataset = make_dataset
        self.batches_per_pass = nominal_batches_per_pass
        self.description = description

    def batches(self, start):
        """Endless `(position, images)` pairs from `start` on."""
        dataset = self.make_dataset()
        for _ in range(start.data_pass):
            iter(dataset)  # every iterator advances the pipeline's shuffle and crop seeds by one pass
        data_pass, skip = start.data_pass, start.index
        while True:
            count = 0
            for images in dataset.as_numpy_iterator():
                if count >= skip:
                    yield DataPosition(data_pass, count), images
                count += 1
            if count == 0:
                raise DatasetError(f"{self.description} yielded no complete batch in pass {data_pass}.")
            data_pass, skip = data_pass + 1, max(0, skip - count)

    def count_batches_per_pass(self):
        """Reads one pass to count its batches (for a dataset without metadata); remembers the count."""
        self.batches_per_pass = sum(1 for _ in self.make_dataset())
        return self.batches_per_pass


class TrainingStream(keras.utils.PyDataset):
    """The training batches of a run as a Keras `PyDataset`: one Keras epoch is `steps_per_epoch` steps.

    The batch that Keras asks for as index `i` of an epoch is global step `epoch_start + i`. The stream reads
    its source in order, keeps the last few batches (Keras reads the first two twice to learn their shape)
    and remembers the data position of recent steps, which checkpoints store.

    Args:
        source: `RandomAccessBatches` or `SequentialBatches`.
        steps_per_epoch: Batches in each Keras epoch. It may be changed between two `fit` calls (a resumed
            run first finishes its interrupted epoch).
        start_step: Global step of the first batch.
        start_position: Data position of the first batch.
    """

    def __init__(self, source, steps_per_epoch, start_step=0, start_position=DataPosition()):
        super().__init__(workers=1, use_multiprocessing=False)
        self.source = source
        self.steps_per_epoch = int(steps_per_epoch)
        self._start = (int(start_step), start_position)
        self._epoch_start = self._next_epoch_start = int(start_step)
        self._within_epoch = False
        self._lock = threading.Lock()
        self._reader = None
        self._next_step = None
        self._cache = OrderedDict()
        self._positions = OrderedDict({int(start_step): start_position})

    def __len__(self):
        return self.steps_per_epoch

    def on_epoch_begin(self):
        self._epoch_start = self._next_epoch_start
        self._next_epoch_start += self.steps_per_epoch
        self._within_epoch = True

    def on_epoch_end(self):
        self._within_epoch = False

    def __getitem__(self, index):
        if not 0 <= index < self.steps_per_epoch:
            raise IndexError(f"batch {index} is out of range for an epoch of {self.steps_per_epoch} batches.")
        # Outside an epoch Keras is peeking at the epoch to come (to learn the batch shape).
        first = self._epoch_start if self._within_epoch else self._next_epoch_start
        return self.batch(first + index)

    def batch(self, step):
        """The images of global step `step` (reading forward, or restarting from a remembered position)."""
        with self._lock:
            if step in self._cache:
                return self._cache[step]
            if self._reader is None or step < self._next_step:
                self._restart(step)
            while self._next_step <= step:
                position, images = next(self._reader)
                self._remember(self._next_step, position, images)
                self._next_step += 1
            return self._cache[step]

    def position_of(self, step):
        """The data position of global step `step`: where a run resumed at `step` starts reading.

        Known for the steps read recently and for the step right after the last one read.
        """
        with self._lock:
            if step in self._positions:
                return self._positions[step]
            if step - 1 in self._positions:  # not read yet (Keras opens the next epoch lazily)
                previous = self._positions[step - 1]
                return DataPosition(previous.data_pass, previous.index + 1)
        raise ValueError(f"the data position of step {step} is no longer known.")

    def _restart(self, step):
        known = [known_step for known_step in self._positions if known_step <= step]
        if not known:
            raise ValueError(f"cannot go back to step {step} of the training data.")
        from_step = max(known)
        self._reader = self.source.batches(self._positions[from_step])
        self._next_step = from_step

    def _remember(self, step, position, images):
        self._cache[step] = images
        self._positions[step] = position
        for memory, size in ((self._cache, _CACHED_BATCHES), (self._positions, _REMEMBERED_POSITIONS)):
            while len(memory) > size:
                memory.popitem(last=False)


def fit_input(stream):
    """What `fit` reads to train on `stream`: `(x, callbacks)`, to pass as `fit(x, callbacks=[*callbacks, ...])`.

    On TensorFlow, Keras would wrap the stream in a `tf.data` pipeline of its own with tf.data's autotuning model
    on, and destroying that pipeline's iterator, at the end of every epoch, waits idle for the model's thread: the
    longer the epoch, the longer the wait (the 6 epochs of tests/conftest.py's recipe check took 44 s instead of
    33 s on one core of the 2-vCPU Zen 4, the same CPU time). So on TensorFlow `x` is the same pipeline, built here
    with `kcolor.data.tf_pipeline.pipeline_options` (no autotuning model), and a callback tells the stream where
    each epoch begins and ends, as Keras does for a `PyDataset`. Elsewhere `x` is the stream itself.

    Build it for each `fit` call: its length is the stream's `steps_per_epoch` at that time.

    Args:
        stream: the `TrainingStream` to train on.

    Returns:
        `(x, callbacks)`: a `tf.data.Dataset` and one callback on TensorFlow, else `(stream, [])`.

    Example:
        ```python
        x, callbacks = fit_input(stream)
        model.fit(x, epochs=epochs, callbacks=[*callbacks, *my_callbacks])
        ```
    """
    if keras.backend.backend() != "tensorflow":
        return stream, []
    import tensorflow as tf

    from kcolor.data.tf_pipeline import pipeline_options

    first = stream[0]  # the next epoch's first batch (Keras reads it too, to learn the batch's shape)
    signature = (tf.TensorSpec((None, *first.shape[1:]), tf.as_dtype(first.dtype)),)

    def batches():
        for index in range(len(stream)):
            yield (stream[index],)

    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(stream)))  # progress bars know the length
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(pipeline_options()), [_StreamEpochs(stream)]


class _StreamEpochs(keras.callbacks.Callback):
    """Tells a `TrainingStream` read through a `tf.data` pipeline where Keras's epochs begin and end."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def on_epoch_begin(self, epoch, logs=None):
        self.stream.on_epoch_begin()

    def on_epoch_end(self, epoch, logs=None):
        self.stream.on_epoch_end()


def training_batches(dataset, *, image_size, batch_size, seed, data_dir=None):
    """The training source of a dataset spec: `RandomAccessBatches` or `SequentialBatches`.

    Args:
        dataset: A `kcolor.data` spec (`sample`, `folder:PATH`, `npz:PATH` or a TFDS name).
        image_size: Side of the square training crops.
        batch_size: Images per batch.
        seed: Fixes every pass's order and crops.
        data_dir: TFDS data folder.

    Returns:
        A `RandomAccessBatches` for local datasets, a `SequentialBatches` for TFDS.

    Raises:
        DatasetError: the dataset cannot be loaded, or it has fewer training images than one batch.

    Example:
        ```python
        source = training_batches("sample", image_size=32, batch_size=64, seed=0)
        stream = TrainingStream(source, steps_per_epoch=source.batches_per_pass)
        ```
    """
    from kcolor.data.options import LoadOptions

    spec = parse_spec(dataset)
    options = LoadOptions(image_size, batch_size, seed=seed, shuffle=True, augment=True, drop_remainder=True)
    if spec.kind == "tfds":
        source = _tfds_batches(spec, options, data_dir)
    else:
        from kcolor.data.dataset import local_sampler

        source = RandomAccessBatches(local_sampler(spec, "train", options), batch_size, f"{spec} (train)")
        if source.batches_per_pass == 0:
            raise DatasetError(
                f"batch size {batch_size} is larger than the {source.item_count} usable training images of "
                f"{spec}: pass --batch-size {max(1, source.item_count)} or smaller, or add images."
            )
    return source


def _tfds_batches(spec, options, data_dir):
    from kcolor.data import load_dataset
    from kcolor.data.tfds_source import tfds_builder

    def make_dataset():
        return load_dataset(
            spec, "train", options.image_size, options.batch_size, data_dir=data_dir, seed=options.seed,
            drop_remainder=True,
        )  # fmt: skip

    make_dataset()  # download, prepare and check it now, before any model is built
    try:
        examples = int(tfds_builder(spec.value, data_dir).info.splits["train"].num_examples)
    except Exception:  # no metadata: the pass length is learnt while reading
        examples = None
    if examples is not None and examples < options.batch_size:
        raise DatasetError(
            f"batch size {options.batch_size} is larger than the {examples} training images of {spec}: "
            f"pass --batch-size {max(1, examples)} or smaller."
        )
    return SequentialBatches(make_dataset, None if examples is None else examples // options.batch_size, str(spec))
