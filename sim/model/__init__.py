"""The model: five actors over a block of Monte Carlo replicas, one month per step.

The lowest layer: it imports nothing else of ``sim``. ``DrawdownModel`` (``model.py``) holds the
actors (``actors/``), the parameters (``parameters.py``), the levers and postures (``levers.py``,
``postures.py``), the scheduled events (``events.py``) and the outcome bookkeeping
(``outcomes.py``); compiled loops live in ``kernels.py``. See docs/ARCHITECTURE.md.
"""

from sim._lazy import names_on_first_use

#: The names below load on first use (importing one module of this package does not load the
#: others): name -> the module that defines it.
PUBLIC = {
    "DEFAULT_MILITIAS": "sim.model.settings",
    "DrawdownModel": "sim.model.model",
    "ModelSettings": "sim.model.settings",
    "batch_run_seeds": "sim.model.model",
}

__all__ = sorted(PUBLIC)

__getattr__, __dir__ = names_on_first_use(__name__, PUBLIC)
