"""The ziggurat tables now live in :mod:`maxbounds._ziggurat` (kept here for old imports)."""

from .._ziggurat import *  # noqa: F401,F403
from .._ziggurat import FX, LAYERS, R, RATIO, X  # noqa: F401
