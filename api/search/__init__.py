"""Search: the outbox that feeds the index, and the search and filter endpoints."""
