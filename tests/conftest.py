"""Shared pytest fixtures: quiet TensorFlow, small real photos, and running code in a fresh interpreter."""

import os
import subprocess
import sys
import textwrap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

# Prepended to code run by `run_python(..., block_tensorflow=True)`: any import of TensorFlow fails, as on
# a machine where it is not installed.
BLOCK_TENSORFLOW = """
import sys
class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow.") or name.startswith("tensorflow_"):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None
sys.meta_path.insert(0, _NoTensorFlow())
"""


def run_python_code(code, backend="tensorflow", block_tensorflow=False, timeout=300, env=None):
    """Runs `code` in a fresh Python with `KERAS_BACKEND=backend`; returns the completed process."""
    source = textwrap.dedent(code)
    if block_tensorflow:
        source = BLOCK_TENSORFLOW + source
    full_env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    result = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=timeout, env=full_env
    )
    if result.returncode != 0:
        raise AssertionError(f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture
def run_python():
    return run_python_code


def photo_crops(size=32, count=8, seed=0):
    """`count` random `size`-pixel crops of color photos that scikit-image ships (uint8 RGB)."""
    from skimage import data
    from skimage.transform import resize

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    rng = np.random.default_rng(seed)
    crops = []
    for index in range(count):
        photo = photos[index % len(photos)]
        # Downscale first so a small crop still shows a recognisable region.
        small = (resize(photo, (photo.shape[0] // 4, photo.shape[1] // 4), anti_aliasing=True) * 255).astype(np.uint8)
        top = rng.integers(0, small.shape[0] - size + 1)
        left = rng.integers(0, small.shape[1] - size + 1)
        crops.append(small[top : top + size, left : left + size])
    return np.stack(crops)


@pytest.fixture(scope="session")
def photos():
    return photo_crops()
