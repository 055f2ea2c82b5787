"""Marquee's HTTP API and catalog domain."""
