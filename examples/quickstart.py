"""Build a small graph, run backward, and print every node's value and gradient.

    python examples/quickstart.py

The expression is one sigmoid neuron with a squared error,
E = ½ (sigmoid(w·x + b) − t)², the smallest piece of the seed's network.
"""

from tinygrad_sine import Value, topo_order


def main() -> None:
    x = Value(0.5, label="x")
    w = Value(-1.2, label="w")
    b = Value(0.3, label="b")
    t = Value(0.8, label="t")
    u = w * x + b
    u.label = "u"
    y = u.sigmoid()
    y.label = "y"
    loss = 0.5 * (y - t) ** 2
    loss.label = "E"
    loss.backward()

    print("node by node, leaves first:")
    for node in topo_order(loss):
        print(" ", node)
    # The hand-derived chain rule for the same neuron, to compare with:
    yv, tv = y.item(), t.item()
    delta = (yv - tv) * yv * (1 - yv)  # ∂E/∂u = (y − t) · y (1 − y)
    print(f"by hand: dE/dw = δ·x = {delta * x.item():.6f}   engine: {w.grad.item():.6f}")
    print(f"by hand: dE/db = δ   = {delta:.6f}   engine: {b.grad.item():.6f}")


if __name__ == "__main__":
    main()
