"""Bulk imports of catalog data."""
