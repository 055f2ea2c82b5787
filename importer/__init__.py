"""Bulk imports of catalog data into the database (`marquee import`)."""
