"""Walk through one training step of the seed's network, node by node, printing every step.

    python examples/step_through.py [SEED]

First the forward pass (each node: its op, inputs and output), then backprop
(each node: the gradient arriving, the op's local derivative, what it sends
to each input, and at the seed's nodes the formula with the manual value
beside the automatic one).  The same walk, interactively: `tinygrad-sine step`.
"""

import sys

import numpy as np

from tinygrad_sine import Stepper, topo_order
from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import sine_data
from tinygrad_sine.stepper import training_step


def main(seed: int = 0) -> None:
    x, t = sine_data()
    net = SineNet(n_mid=3, seed=seed)
    loss = training_step(net, x[10:11].reshape(1, 1), t[10:11].reshape(1, 1))  # no backward yet

    stepper = Stepper(loss)
    print(f"{len(stepper)} steps\n")
    while (step := stepper.next()) is not None:
        print(step.text, end="\n\n")

    print(stepper.formulas_table(), end="\n\n")

    # The stepper keeps its gradients to itself; compare them with loss.backward().
    nodes = topo_order(loss)
    stepped = [stepper.grad(node) for node in nodes]
    loss.backward()
    worst = max(float(np.max(np.abs(node.grad - g))) for node, g in zip(nodes, stepped))
    print(f"stepped gradients versus loss.backward(): largest difference {worst:.1e}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
