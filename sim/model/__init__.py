"""The model: five actors over a block of Monte Carlo replicas, one month per step.

The lowest layer: it imports nothing else of ``sim``. ``DrawdownModel`` (``model.py``) holds the
actors (``actors/``), the parameters (``parameters.py``), the levers and postures (``levers.py``,
``postures.py``), the scheduled events (``events.py``) and the outcome bookkeeping
(``outcomes.py``); compiled loops live in ``kernels.py``. See docs/ARCHITECTURE.md.
"""

from sim.model.model import DEFAULT_MILITIAS, DrawdownModel, ModelSettings, batch_run_seeds

__all__ = ["DEFAULT_MILITIAS", "DrawdownModel", "ModelSettings", "batch_run_seeds"]
