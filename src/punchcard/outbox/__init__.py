"""The outbox: messages written with the change they tell of, delivered after the commit."""
