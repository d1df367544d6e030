"""Test support shared by the connectors: the emulator base and the shared connector test suite.

Nothing here is used at run time; the emulators live next to their connectors
(`connectors/<system>/emulator.py`) so that an API's client and its fake change together.
"""

from __future__ import annotations
