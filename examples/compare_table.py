"""The seed's hand-derived gradients beside the automatic ones, for one sample.

    python examples/compare_table.py [SEED]

Each row is one of the post's formulas (δ_k = y_k − t_k, ∂w_jk = y_j δ_k, …),
its value by hand (tinygrad_sine.manual) and the gradient autodiff left at
the matching node of the graph.
"""

import sys

import numpy as np

from tinygrad_sine.compare import compare_gradients, format_table
from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import sine_data


def main(seed: int = 0) -> None:
    x, t = sine_data()
    net = SineNet(n_mid=3, wb_width=1.0, seed=seed)  # wide weights: no gradient is tiny
    rows = compare_gradients(net, x[10:11].reshape(1, 1), t[10:11].reshape(1, 1))
    print(format_table(rows))
    worst = max(row.max_abs_diff for row in rows)
    print(f"largest difference: {worst:.1e}")
    assert np.isfinite(worst)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
