"""The post end to end: train the 1-3-1 network on sin(x) and save its figures.

    python examples/reproduce_post.py [EPOCHS] [OUT_DIR]

Defaults: 2001 epochs, figures into out/post/.  Prints the seed's progress
lines every 200 epochs.
"""

import sys

from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import progress_line, train
from viz.plots import save_figures


def main(epochs: int = 2001, out_dir: str = "out/post") -> None:
    net = SineNet(n_in=1, n_mid=3, n_out=1, wb_width=0.01, seed=0)
    history = train(
        net, epochs=epochs, eta=0.1, interval=200, seed=0,
        callback=lambda epoch, error, _: print(progress_line(epoch, epochs, error)),
    )
    for path in save_figures(history, out_dir):
        print("wrote", path)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2001,
         sys.argv[2] if len(sys.argv) > 2 else "out/post")
