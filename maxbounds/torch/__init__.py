r"""maxbounds in PyTorch: maxout modules, initialisers computed by maxbounds, and trained models brought back.

Needs the optional extra: ``pip install "maxbounds[torch]"``.

* :class:`Maxout`, :class:`MaxoutConv2d`: maxout layers laid out as maxbounds lays them out;
* :func:`build`: the ``nn.Sequential`` of a maxbounds network whose parameters are maxbounds' draw
  (network ``index`` of ``seed``: the network every simulator uses);
* :func:`init_`: (re-)initialise any model made of these layers, ``nn.Linear`` / ``nn.Conv2d`` with ReLU or
  leaky ReLU and ``nn.MaxPool2d``, with a maxbounds scheme (``1/M``, ``1/L``, ``1/S``, He, fractional,
  max-pooling aware, sphere, many regions, or a number);
* :func:`to_layers`, :func:`to_network`, :func:`from_network`: a model as maxbounds layers with its
  parameters, as an explicit :class:`maxbounds.regions.Network` (exact region counts), and back;
* :func:`gradient_statistics`: the paper's per-layer statistics of :math:`n_0(\partial N/\partial W)^2`.

See docs/torch.md.
"""

from ._require import require_torch

require_torch()

from .convert import build, chain, from_network, to_layers, to_network  # noqa: E402
from .gradients import gradient_statistics  # noqa: E402
from .init import SCHEMES, ModelInit, init_  # noqa: E402
from .modules import Maxout, MaxoutConv2d  # noqa: E402

__all__ = ["Maxout", "MaxoutConv2d", "build", "chain", "init_", "ModelInit", "SCHEMES", "to_layers", "to_network",
           "from_network", "gradient_statistics"]
