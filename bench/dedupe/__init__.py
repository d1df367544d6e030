"""Dedupe benchmark: crmsync vs Splink, GoldenMatch and the trivial e-mail/phone rule."""
