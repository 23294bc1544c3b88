"""What every HTTP route shares: authentication, sessions, idempotent writes, error bodies."""
