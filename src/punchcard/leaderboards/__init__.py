"""Leaderboards: boards per period, members' display names and opt-in, live scores."""
