"""The simulation checks of the fractional scheme quoted in docs/fractional.md (section 2).

``python docs/examples/fractional_checks.py`` prints one line per (kind, width, s): networks, the
deepest layer checked directly, its z, the pooled per-layer ratio, its z, the number of (network,
layer) pairs, and the verdict.  50 hidden layers and a linear output, input (1, ..., 1)/sqrt(n),
seed 11; the same construction as ``_fractional_run`` in tests/test_fractional.py.
"""

from __future__ import annotations

import json
import math

import numpy as np

from maxbounds.architecture import Architecture
from maxbounds.laws.init import init_network
from maxbounds.validation.lognorm import check_fractional, simulate_lognorms


def run(kind, n, s, networks, seed):
    arch = Architecture((n,) * 51 + (1,), ranks=3)
    activation = {"leaky": "leaky_relu"}.get(kind, kind)
    net = arch.network(activation, slope=0.2, **({"slopes": (0.1, 0.4)} if kind == "rrelu" else {}))
    net = init_network(net, "fractional", s=s).network
    logs = simulate_lognorms(net, np.ones(n) / math.sqrt(n), networks, seed)
    return check_fractional(net, s, logs[:51])


if __name__ == "__main__":
    for kind in ("relu", "leaky", "rrelu", "linear", "maxout"):
        for n in (2, 10, 100):
            for s in (0.5, 1.0, 1.5):
                N = 4000 if n < 100 else (300 if kind in ("maxout", "rrelu") else 500)
                r = run(kind, n, s, N, 11)
                d = r["direct"][-1] if r["direct"] else None
                p = r["per_layer_ratio"]
                print(json.dumps([kind, n, s, N, r["deepest_direct_layer"], None if d is None else round(d["z"], 2),
                                  round(p["estimate"], 5), round(p["z"], 2), p["pairs"], r["passed"]]), flush=True)
