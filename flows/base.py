"""The Prefect flow type every crmsync flow uses: Prefect's own, minus an import it does not need.

Prefect serialises a flow run's parameters with FastAPI's `jsonable_encoder`, importing all of FastAPI
(about 0.4 s of CPU, the largest single cost of a one-off `crmsync run` against a running API) to turn
`config_path="…"` into itself. Our flows take strings and numbers only; those go to the API as they are,
anything else still goes through Prefect's encoder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect.flows import Flow

__all__ = ["CrmsyncFlow", "crmsync_flow"]

P = ParamSpec("P")
R = TypeVar("R")
_PLAIN = (str, int, float, bool, type(None))


class CrmsyncFlow(Flow[P, R]):
    """A Prefect flow whose plain parameters (str, int, float, bool, None) skip FastAPI's encoder."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        if all(type(value) in _PLAIN for value in parameters.values()):
            return dict(parameters)
        return super().serialize_parameters(parameters)


def crmsync_flow(**options: Any) -> Callable[[Callable[P, R]], CrmsyncFlow[P, R]]:
    """`@crmsync_flow(name=..., on_failure=...)`: like `@prefect.flow(...)`, building a CrmsyncFlow."""

    def build(fn: Callable[P, R]) -> CrmsyncFlow[P, R]:
        return CrmsyncFlow(fn=fn, **options)

    return build
