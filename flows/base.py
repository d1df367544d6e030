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

__all__ = ["CrmsyncFlow", "LazyFlows", "crmsync_flow"]

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


class LazyFlows:
    """Flows a module builds on first use (building one costs ~35 ms: Prefect derives its parameter
    schema), so that `crmsync run` builds only the pipeline. The module's `__getattr__` returns
    `lazy.attribute(__name__, name)`; `from flows.pipeline import ingest_flow` and Prefect's
    entrypoints (`flows.pipeline.ingest_flow`) find them by their public name as before.
    """

    def __init__(self) -> None:
        self._pending: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {}
        self._built: dict[str, CrmsyncFlow[..., Any]] = {}

    def flow(self, public_name: str, **options: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Register `fn` (defined under a private name) as the flow `public_name`."""

        def register(fn: Callable[P, R]) -> Callable[P, R]:
            fn.__name__ = fn.__qualname__ = public_name  # what Prefect writes into entrypoints
            self._pending[public_name] = (fn, options)
            return fn

        return register

    def attribute(self, module: str, name: str) -> CrmsyncFlow[..., Any]:
        """The flow `name`, built now if it is not yet; for the module's `__getattr__`."""
        if name not in self._pending:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        if name not in self._built:
            fn, options = self._pending[name]
            self._built[name] = CrmsyncFlow(fn=fn, **options)
        return self._built[name]
