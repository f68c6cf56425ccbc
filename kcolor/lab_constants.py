"""The numbers that define sRGB <-> CIE L*a*b* in kcolor, in plain NumPy (no Keras).

Both L*a*b* references read their constants from here: `kcolor.color` (in `keras.ops`, on the device, for
training) and `kcolor.host_lab` (NumPy float32, on the host, for photos and the evaluation). Keeping them in a
module without Keras lets `kcolor.evaluation` convert colors without importing a deep-learning framework.

The definitions are scikit-image's: sRGB primaries and gamma curve, D65 reference white, 2 degree observer.
`L_SCALE` and `AB_SCALE` are the network's normalisation (`L / 50 - 1`, `a / 110`), described in `kcolor.color`.

Example:

```python
from kcolor.lab_constants import XYZ_FROM_RGB, D65_WHITE
white_xyz = XYZ_FROM_RGB @ np.ones(3)   # about D65_WHITE
```
"""

import numpy as np

XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=np.float64,
)
"""sRGB (linear) -> CIE XYZ under D65; the matrix scikit-image uses."""

RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
"""CIE XYZ -> linear sRGB, the exact inverse of `XYZ_FROM_RGB`."""

D65_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float64)
"""D65 reference white (X, Y, Z), 2 degree observer."""

CIE_DELTA = 6.0 / 29.0
"""CIE's f(t) is a cube root above `CIE_DELTA**3` and a straight line below; f = `CIE_DELTA` at the join."""

CIE_EPSILON = CIE_DELTA**3
"""The t where f(t)'s cube root meets its linear segment (about 0.008856)."""

SRGB_LINEAR_THRESHOLD = 0.04045
"""sRGB values up to this are linear (`value / 12.92`); above it the 2.4 gamma curve applies."""

SRGB_ENCODED_THRESHOLD = 0.0031308
"""Linear values up to this encode as `12.92 * value`; above it as `1.055 * value ** (1 / 2.4) - 0.055`."""

L_SCALE = 50.0
"""The network sees L* in [0, 100] as `L / L_SCALE - 1`, in [-1, 1]."""

AB_SCALE = 110.0
"""The network sees a*, b* (about +-110) as `a / AB_SCALE`."""
