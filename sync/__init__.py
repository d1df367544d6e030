"""The sync stage: the store, ingest apply, push planning, retries, dead letters and audit."""
