"""The catalog: movies, genres and credits."""
