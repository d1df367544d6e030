"""Connectors to outside systems, one sub-package per system (see DESIGN.md).

Importing airbyte-cdk runs `logging.config.dictConfig` on the root logger (its entrypoint module
makes every log line an Airbyte JSON message on stdout). That is right for a connector running
as an Airbyte container and wrong in-process, so the first import happens here, once, with the
process's logging put back as it was and the CDK's own logger left to propagate.
"""

from __future__ import annotations

import logging

_root = logging.getLogger()
_handlers, _level = list(_root.handlers), _root.level
import airbyte_cdk.models  # noqa: E402,F401  (the import with the side effect)

_root.handlers[:] = _handlers
_root.setLevel(_level)
_airbyte = logging.getLogger("airbyte")
_airbyte.handlers.clear()
_airbyte.propagate = True
_airbyte.setLevel(logging.NOTSET)
