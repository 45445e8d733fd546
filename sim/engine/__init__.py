"""The engine: blocks of replicas, executors, mergeable summaries, results and comparisons.

Above the scenario layer: it runs a ``Scenario`` through ``sim.model.DrawdownModel`` block by
block (``blocks.py``) on an executor (``executors.py``), merges the blocks' outcome columns and
quantile bands (``summary.py``, ``binning.py``) and returns ``Results`` (``results.py``) or a
``Comparison`` (``compare.py``). See docs/ARCHITECTURE.md.
"""

from sim._lazy import names_on_first_use

#: The names below load on first use (importing one module of this package does not load the
#: others): name -> the module that defines it.
PUBLIC = {
    "BLOCK_SIZE": "sim.engine.blocks",
    "BlockResult": "sim.engine.blocks",
    "blocks_for": "sim.engine.blocks",
    "run_block": "sim.engine.blocks",
    "Comparison": "sim.engine.compare",
    "compare": "sim.engine.compare",
    "run": "sim.engine.engine",
    "execute": "sim.engine.executors",
    "Results": "sim.engine.results",
}

__all__ = sorted(PUBLIC)

__getattr__, __dir__ = names_on_first_use(__name__, PUBLIC)
