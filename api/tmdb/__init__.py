"""The TMDB API v3 compatibility layer, mounted at /3: TMDB's paths, parameters, shapes and
errors over Marquee's catalog and accounts (the specification is shared/TMDB_V3.md)."""
