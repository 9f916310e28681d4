"""seqdsl: rules-as-code for revenue operations.

The pipeline, one verb per stage (see docs/architecture.md): load a workspace, parse
its rule files, check them, compile them to a plan, evaluate the plan over the data,
and run workflows and sequences over durable state.
"""

__version__ = "0.1.0"
