"""Users' watchlists and favorites."""
