"""Root pytest configuration: tests and notebooks (nbval) run in smoke mode unless told otherwise.

Notebook kernels inherit this environment, so `python -m pytest` never starts a full, GPU-sized training run
or a download. Set `KCOLOR_SMOKE=0` to execute the notebooks in full mode.
"""

import os

import pytest

# Every picture a notebook cell shows must load from a copy of the notebook (Colab): checked on nbval's outputs.
pytest_plugins = ["tests.nbval_pictures"]

os.environ.setdefault("KCOLOR_SMOKE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

# XLA (JAX; TensorFlow's jit_compile) compiles at optimisation level 0 in tests and in every subprocess and
# notebook kernel they start: for the tests' tiny networks compiling dominates (loading the shipped model and
# running it once on JAX took 18 CPU-seconds at the default level, 8 at level 0), and what they check is kcolor's
# code, not the speed of XLA's output. Set KCOLOR_TEST_XLA_DEFAULT=1 to keep XLA's default.
if not os.environ.get("KCOLOR_TEST_XLA_DEFAULT") and "--xla_backend_optimization_level" not in os.environ.get(
    "XLA_FLAGS", ""
):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0".strip()

# `KCOLOR_TEST_MAX_ISA=AVX2 python -m pytest` runs the suite as on an x86-64 CPU without AVX-512 and without native
# bfloat16 (the 2-core AVX2 EPYC of the suite's time goal): oneDNN (TensorFlow's kernels) honours ONEDNN_MAX_CPU_ISA
# and prints the ISA it uses with ONEDNN_VERBOSE=1; XLA (JAX, and TensorFlow's jit_compile) generates code for no more
# than --xla_cpu_max_isa; NumPy's dispatch skips its AVX-512 loops; tests/conftest.py makes
# `kcolor.devices.cpu_has_bfloat16()` False in the test process. Set here, before any of those libraries is imported;
# every subprocess a test starts (and every notebook kernel) inherits it. One part of an AVX2 CPU this cannot
# reproduce: the fused kernels XLA hands to YNNPACK choose their ISA from the CPU itself.
if os.environ.get("KCOLOR_TEST_MAX_ISA"):
    _isa = os.environ["KCOLOR_TEST_MAX_ISA"].upper()
    os.environ.setdefault("ONEDNN_MAX_CPU_ISA", _isa)
    if "--xla_cpu_max_isa" not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_max_isa={_isa}".strip()
    if _isa in ("AVX2", "AVX", "SSE4_2"):
        os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", "X86_V4 AVX512_ICL AVX512_SPR")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Runs the notebooks on one pytest-xdist worker (`--dist loadgroup`), in order, one after the other.

    A notebook's cells share one kernel and must run in order, and later notebooks reuse the course runs that earlier
    ones train (`kcolor.tutorial.find_or_train`): two notebooks training the same run at once would collide on its
    lock.
    """
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group("notebooks"))
