"""Users' activity on movies and the trending ranking computed from it."""
