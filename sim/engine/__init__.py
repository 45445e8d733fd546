"""The engine: blocks of replicas, executors, mergeable summaries, results and comparisons.

Above the scenario layer: it runs a ``Scenario`` through ``sim.model.DrawdownModel`` block by
block (``blocks.py``) on an executor (``executors.py``), merges the blocks' outcome columns and
quantile bands (``summary.py``, ``binning.py``) and returns ``Results`` (``results.py``) or a
``Comparison`` (``compare.py``). See docs/ARCHITECTURE.md.
"""

from sim.engine.blocks import BLOCK_SIZE, BlockResult, blocks_for, run_block
from sim.engine.compare import Comparison, compare
from sim.engine.engine import run
from sim.engine.executors import execute
from sim.engine.results import Results

__all__ = ["BLOCK_SIZE", "BlockResult", "Comparison", "Results", "blocks_for", "compare",
           "execute", "run", "run_block"]
