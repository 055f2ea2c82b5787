"""Tests of the indexer package against a real Meilisearch."""
