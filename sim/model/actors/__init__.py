"""The five actors. Each holds its state as numpy arrays over the replicas of a block.

Month phases (docs/ODD.md, section 1.3): exogenous events → Iran → militias → United States →
Iraqi government → ISIS → bookkeeping. One module per actor; each mechanism M1..M12 is one
method of its actor, named for what it does; its docstring names the mechanism and the evidence
(claim ids in ``seeds/claims.yaml``).

Every random draw is made unconditionally, with a fixed shape, from the actor's own stream (a
``sim.model.draws.Stream``: numpy's numbers, drawn in compiled loops), so two scenarios that differ in one lever keep their random numbers aligned (common random
numbers). A mechanism's per-replica arithmetic runs as one compiled loop over the block
(numba), written right below its method as a static ``_..._kernel`` (``sim.model.kernels``).
"""

from sim.model.actors.iran import Iran
from sim.model.actors.iraqi_government import IraqiGovernment
from sim.model.actors.isis import ISIS
from sim.model.actors.militia import Militia
from sim.model.actors.united_states import UnitedStates

__all__ = ["ISIS", "Iran", "IraqiGovernment", "Militia", "UnitedStates"]
