"""Users' reviews and ratings, and how they move a movie's votes."""
