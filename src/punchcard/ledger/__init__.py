"""The points ledger: double-entry transactions, lots with expiry, pending points, debt."""
