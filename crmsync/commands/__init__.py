"""CLI verbs grouped by what they work on; each module registers its verbs on `crmsync.cli.app`."""
