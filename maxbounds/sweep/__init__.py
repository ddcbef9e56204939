"""Sweeps on Dask with a resumable SQLite database (``maxbounds sweep``; see ``docs/sweep.md``).

* :mod:`.config`: a TOML grid into a list of :class:`Task` (each with a content-derived key);
* :mod:`.db`: the SQLite database, one row per task, each result committed at once;
* :mod:`.task`: what a worker runs for one task;
* :mod:`.run`: :func:`run_sweep` on a local or remote Dask cluster;
* :mod:`.show`: summary rows (estimates beside their bounds) and a plot.
"""

from .config import SweepConfig, Task, load_config, parse_config
from .db import SweepDB, open_db
from .run import SweepProgress, SweepSummary, run_sweep
from .task import run_task

__all__ = ["SweepConfig", "Task", "load_config", "parse_config", "SweepDB", "open_db", "run_sweep",
           "SweepProgress", "SweepSummary", "run_task"]
