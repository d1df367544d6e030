"""RetailCRM API v5: a destination writer for the push engine (externalId upserts) and a local emulator."""
