"""A push to amoCRM in its own process, for the kill -9 test: `python push_worker.py STORE_URL BASE_URL TOKEN`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pydantic import SecretStr  # noqa: E402

from mappings.outbound import load_outbound, template  # noqa: E402
from sync.push.destination import DestinationSettings, RateLimitSettings  # noqa: E402
from sync.push.run import push_destination  # noqa: E402
from sync.store import open_store  # noqa: E402


def main() -> None:
    store_url, base_url, token = sys.argv[1:4]
    settings = DestinationSettings(
        name="amo", connector="amocrm", base_url=base_url, token=SecretStr(token), workers=2, batch_size=25,
        rate_limit=RateLimitSettings(max_requests=100_000, interval_seconds=1), timeout_seconds=5.0)
    store = open_store(store_url)
    try:
        push_destination(store, settings, load_outbound(template("amocrm_contacts_out")))
    finally:
        store.dispose()


if __name__ == "__main__":
    main()
