"""Idempotency keys: a retried write gets the first answer, byte for byte."""
