from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory) -> dict[str, str]:
    """Environment for running the `crmsync` command in a subprocess, isolated from the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(tmp_path_factory.mktemp("prefect-home")), COLUMNS="220",
               PYTHONPATH=os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")]))
    return env

