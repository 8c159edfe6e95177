"""The chain rows of ``bench.py``: a chain of tanh nodes, forward and backward, by length.

Run through ``python benchmarks/bench.py --only chain``; ``table`` is bench's ``Table``.
"""

from __future__ import annotations

import gc
import time
import tracemalloc


def bench_chain(table, args) -> None:
    """Chains of tanh nodes: time per node as the chain grows (linear?), and memory per node."""
    from tinygrad_sine import Value

    print("chains of tanh nodes …", flush=True)

    def chain(n):
        best_f = best_b = float("inf")
        for _ in range(args.chain_repeat):
            gc.collect()
            start = time.perf_counter()
            v = Value(0.5)
            for _ in range(n):
                v = v.tanh()
            mid = time.perf_counter()
            v.backward()
            end = time.perf_counter()
            del v
            best_f, best_b = min(best_f, mid - start), min(best_b, end - mid)
        return best_f / n * 1e6, best_b / n * 1e6

    per_node, paused = {}, {}
    for n in args.chain:
        forward, backward = chain(n)
        per_node[n] = forward + backward
        table.add(f"chain of {n:,} nodes: forward", forward, "—", None, None, "µs/node")
        table.add(f"chain of {n:,} nodes: backward", backward, "—", None, None, "µs/node")
    small, large = min(per_node), max(per_node)
    table.add(f"chain: forward + backward per node, {large:,} vs {small:,} (GC on)",
              per_node[large], f"{small:,} nodes", per_node[small], 1.8, "µs/node")
    gc.disable()  # the same, with Python's cyclic GC paused: the engine's own work alone
    try:
        for n in (small, large):
            paused[n] = sum(chain(n))
    finally:
        gc.enable()
    table.add(f"the same with the cyclic GC paused, {large:,} vs {small:,}", paused[large],
              f"{small:,} nodes", paused[small], None, "µs/node")
    table.note("linear time: a walk quadratic in the length would make the per-node time at "
               f"{large:,} nodes {large // small}× that at {small:,}; what growth there "
               "is comes from Python's cyclic GC (which scans the growing graph) and from "
               "the graph outgrowing the CPU caches.  Each op node is two objects the GC "
               "tracks, the Value and its parents tuple; the full collections that a growing "
               "heap triggers rescan them all (benchmarks/README.md: the floor)")

    n = args.chain_memory
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    v = Value(0.5)
    for _ in range(n):
        v = v.tanh()
    graph = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.reset_peak()
    v.backward()
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del v
    table.add(f"chain of {n:,}: memory of the graph", graph / n, "—", None, None, "bytes/node")
    table.add(f"chain of {n:,}: after backward (.grad kept)", (after - before) / n, "—", None,
              None, "bytes/node")
    table.add(f"chain of {n:,}: peak during backward", (peak - before) / n, "—", None, None,
              "bytes/node")
