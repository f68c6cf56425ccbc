"""Root pytest configuration: tests and notebooks (nbval) run in smoke mode unless told otherwise.

Notebook kernels inherit this environment, so `python -m pytest` never starts a full, GPU-sized training run
or a download. Set `KCOLOR_SMOKE=0` to execute the notebooks in full mode.
"""

import os

os.environ.setdefault("KCOLOR_SMOKE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
