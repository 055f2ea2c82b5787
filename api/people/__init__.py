"""People: actors and directors credited on movies."""
