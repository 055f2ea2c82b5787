"""A small handmade movie corpus, plus a plain-Python model of filtering it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from indexer import MovieFilters, MovieSource, to_document

GENRES = {
    12: "Adventure",
    14: "Fantasy",
    16: "Animation",
    18: "Drama",
    28: "Action",
    35: "Comedy",
    53: "Thriller",
    80: "Crime",
    878: "Science Fiction",
    9648: "Mystery",
    10402: "Music",
    10749: "Romance",
    10751: "Family",
}
NOLAN, MIYAZAKI = (101, "Christopher Nolan"), (111, "Hayao Miyazaki")
HANKS, RYAN, HARDY = (9, "Tom Hanks"), (10, "Meg Ryan"), (11, "Tom Hardy")
FORD, GOSLING, FOSTER = (34, "Harrison Ford"), (36, "Ryan Gosling"), (33, "Jodie Foster")
MOSS = (14, "Carrie-Anne Moss")
REINER = (102, "Rob Reiner")  # directs one film here and acts in another
ZIMMER, THOMAS, HISAISHI = (201, "Hans Zimmer"), (202, "Emma Thomas"), (203, "Joe Hisaishi")
DYSTOPIA, AI, SPACE, TIME_TRAVEL = (
    (4565, "dystopia"),
    (310, "artificial intelligence"),
    (9882, "space"),
    (4379, "time travel"),
)
WARNER, LEGENDARY, GHIBLI, PARAMOUNT = (
    (174, "Warner Bros. Pictures"),
    (923, "Legendary Pictures"),
    (10342, "Studio Ghibli"),
    (4, "Paramount"),
)
STAMP = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

# id, title, original title, language, release date, genre ids, cast, directors,
# popularity, vote average, vote count
ROWS: list[tuple] = [
    (157336, "Interstellar", None, "en", "2014-11-05", [878, 18, 12],
     [(1, "Matthew McConaughey"), (2, "Anne Hathaway"), (3, "Jessica Chastain")], [NOLAN],
     140.0, 8.3, 32000),
    (27205, "Inception", None, "en", "2010-07-15", [28, 878, 12],
     [(4, "Leonardo DiCaprio"), (5, "Joseph Gordon-Levitt"), (6, "Elliot Page"), HARDY], [NOLAN],
     110.0, 8.4, 35000),
    (155, "The Dark Knight", None, "en", "2008-07-16", [18, 28, 80],
     [(7, "Christian Bale"), (8, "Heath Ledger")], [NOLAN], 120.0, 8.5, 31000),
    (77, "Memento", None, "en", "2000-10-11", [9648, 53],
     [(43, "Guy Pearce"), MOSS], [NOLAN], 30.0, 8.2, 9000),
    (639, "When Harry Met Sally...", None, "en", "1989-07-12", [35, 10749, 18],
     [(44, "Billy Crystal"), RYAN], [REINER], 20.0, 7.4, 3000),
    (858, "Sleepless in Seattle", None, "en", "1993-06-24", [35, 10749, 18],
     [HANKS, RYAN, REINER], [(123, "Nora Ephron")], 18.0, 6.8, 2000),
    (13, "Forrest Gump", None, "en", "1994-07-06", [35, 18, 10749],
     [HANKS, (45, "Robin Wright")], [(125, "Robert Zemeckis")], 60.0, 8.5, 26000),
    (76341, "Mad Max: Fury Road", None, "en", "2015-05-13", [28, 12, 878],
     [HARDY, (12, "Charlize Theron")], [(103, "George Miller")], 70.0, 7.6, 22000),
    (603, "The Matrix", None, "en", "1999-03-30", [28, 878],
     [(13, "Keanu Reeves"), MOSS, (46, "Laurence Fishburne")], [(104, "Lana Wachowski")],
     80.0, 8.2, 25000),
    (496243, "Parasite", "기생충", "ko", "2019-05-30", [35, 53, 18],
     [(15, "Song Kang-ho"), (16, "Choi Woo-shik")], [(105, "Bong Joon-ho")], 90.0, 8.5, 18000),
    (194, "Amélie", "Le Fabuleux Destin d'Amélie Poulain", "fr", "2001-04-25", [35, 10749],
     [(17, "Audrey Tautou"), (47, "Mathieu Kassovitz")], [(106, "Jean-Pierre Jeunet")],
     25.0, 7.9, 11000),
    (101, "Léon: The Professional", "Léon", "fr", "1994-09-14", [80, 18, 28],
     [(18, "Jean Reno"), (19, "Natalie Portman"), (48, "Gary Oldman")], [(107, "Luc Besson")],
     45.0, 8.3, 14000),
    (289, "Casablanca", None, "en", "1942-11-26", [18, 10749],
     [(20, "Humphrey Bogart"), (21, "Ingrid Bergman")], [(108, "Michael Curtiz")],
     22.0, 8.2, 5000),
    (238, "The Godfather", None, "en", "1972-03-14", [18, 80],
     [(22, "Marlon Brando"), (23, "Al Pacino")], [(109, "Francis Ford Coppola")],
     100.0, 8.7, 20000),
    (346, "Seven Samurai", "七人の侍", "ja", "1954-04-26", [28, 18],
     [(24, "Toshiro Mifune"), (25, "Takashi Shimura")], [(110, "Akira Kurosawa")],
     19.0, 8.5, 3500),
    (129, "Spirited Away", "千と千尋の神隠し", "ja", "2001-07-20", [16, 10751, 14],
     [(26, "Rumi Hiiragi"), (49, "Miyu Irino")], [MIYAZAKI], 85.0, 8.5, 16000),
    (4935, "Howl's Moving Castle", "ハウルの動く城", "ja", "2004-09-09", [14, 16, 12],
     [(50, "Chieko Baisho"), (51, "Takuya Kimura")], [MIYAZAKI], 50.0, 8.4, 9500),
    (219, "Volver", None, "es", "2006-03-10", [35, 18],
     [(28, "Penélope Cruz"), (52, "Carmen Maura")], [(112, "Pedro Almodóvar")],
     15.0, 7.5, 1800),
    (1391, "Y Tu Mamá También", None, "es", "2001-06-08", [18],
     [(29, "Gael García Bernal"), (53, "Diego Luna")], [(121, "Alfonso Cuarón")],
     12.0, 7.3, 1500),
    (137113, "Edge of Tomorrow", None, "en", "2014-05-27", [28, 878],
     [(30, "Tom Cruise"), (31, "Emily Blunt")], [(113, "Doug Liman")], 55.0, 7.6, 13000),
    (103, "Taxi Driver", None, "en", "1976-02-09", [80, 18],
     [(32, "Robert De Niro"), FOSTER], [(114, "Martin Scorsese")], 40.0, 8.1, 12000),
    (78, "Blade Runner", None, "en", "1982-06-25", [878, 18, 53],
     [FORD, (55, "Rutger Hauer"), (35, "Sean Young")], [(115, "Ridley Scott")],
     48.0, 7.9, 13500),
    (335984, "Blade Runner 2049", None, "en", "2017-10-04", [878, 18],
     [GOSLING, FORD], [(116, "Denis Villeneuve")], 65.0, 7.6, 13000),
    (62, "2001: A Space Odyssey", None, "en", "1968-04-02", [878, 9648, 12],
     [(41, "Keir Dullea"), (56, "Gary Lockwood")], [(117, "Stanley Kubrick")], 35.0, 8.1, 11000),
    (15121, "The Sound of Music", None, "en", "1965-03-02", [18, 10751, 10402, 10749],
     [(40, "Julie Andrews"), (57, "Christopher Plummer")], [(119, "Robert Wise")],
     20.0, 7.9, 3500),
    (804, "Roman Holiday", None, "en", "1953-08-27", [35, 10749],
     [(38, "Audrey Hepburn"), (39, "Gregory Peck")], [(118, "William Wyler")], 16.0, 8.0, 2500),
    (313369, "La La Land", None, "en", "2016-11-29", [35, 18, 10749, 10402],
     [GOSLING, (42, "Emma Stone")], [(120, "Damien Chazelle")], 58.0, 7.9, 16000),
    (274, "The Silence of the Lambs", None, "en", "1991-02-01", [80, 18, 53],
     [FOSTER, (58, "Anthony Hopkins")], [(124, "Jonathan Demme")], 42.0, 8.3, 15000),
    (329, "Jurassic Park", None, "en", "1993-06-11", [12, 878],
     [(59, "Sam Neill"), (60, "Laura Dern"), (61, "Jeff Goldblum")], [(122, "Steven Spielberg")],
     50.0, 7.9, 15000),
    (630, "The Wizard of Oz", None, "en", "1939-08-15", [12, 10751, 14],
     [(62, "Judy Garland")], [(126, "Victor Fleming")], 20.0, 7.6, 5000),
    (999001, "Untitled Nolan Project", None, "en", None, [18], [], [NOLAN], 5.0, 0.0, 0),
]  # fmt: skip

# The rest of some movies' records (the others run 120 minutes, or nothing when undated, with
# no revenue, crew, keywords or companies): runtime, revenue, crew (person, job), keywords,
# companies. Casablanca and The Wizard of Oz tie on runtime, Memento and Volver on revenue.
EXTRAS: dict[int, tuple] = {
    157336: (169, 675120017, [(*NOLAN, "Screenplay"), (*ZIMMER, "Original Music Composer"),
                              (*THOMAS, "Producer")], [SPACE, TIME_TRAVEL],
             [LEGENDARY, PARAMOUNT, WARNER]),
    155: (152, 1004558444, [(*ZIMMER, "Original Music Composer"), (*THOMAS, "Producer")], [],
          [WARNER, LEGENDARY]),
    77: (113, 39723096, [(*NOLAN, "Screenplay"), (*THOMAS, "Producer")], [], []),
    13: (142, 677945399, [], [], [PARAMOUNT]),
    603: (136, 463517383, [], [DYSTOPIA, AI], [WARNER]),
    76341: (120, 378858340, [], [DYSTOPIA], [WARNER]),
    496243: (132, 258000000, [], [], []),
    346: (207, None, [], [], []),
    129: (125, 274925095, [(*HISAISHI, "Original Music Composer")], [], [GHIBLI]),
    4935: (119, 234710455, [(*HISAISHI, "Original Music Composer")], [], [GHIBLI]),
    289: (102, None, [], [], []),
    630: (102, 3017000, [], [], []),
    238: (175, 245066411, [], [], [PARAMOUNT]),
    219: (121, 39723096, [], [], []),
    137113: (113, 370541256, [], [TIME_TRAVEL], [WARNER]),
    78: (117, 33139618, [], [DYSTOPIA, AI], [WARNER]),
    335984: (164, 259239658, [(*ZIMMER, "Original Music Composer")], [DYSTOPIA, AI], [WARNER]),
    62: (149, 68700000, [], [SPACE, AI], []),
    313369: (128, 445435700, [], [], []),
    329: (127, 920100000, [], [], []),
}  # fmt: skip


def source(row: tuple) -> MovieSource:
    movie_id, title, original, lang, day, genre_ids, cast, directors, pop, avg, count = row
    fields = {
        "id": movie_id,
        "title": title,
        "original_title": original or title,
        "overview": f"Overview of {title}.",
        "tagline": None,
        "release_date": date.fromisoformat(day) if day else None,
        "original_language": lang,
        "runtime": 120 if day else None,
        "status": "Released" if day else "Post Production",
        "poster_path": f"/{movie_id}.jpg",
        "backdrop_path": None,
        "budget": movie_id * 1000 if day else None,
        "revenue": None,
        "homepage": None,
        "popularity": pop,
        "vote_average": avg,
        "vote_count": count,
        "created_at": STAMP,
        "updated_at": STAMP,
    }
    runtime, revenue, crew, keywords, companies = EXTRAS.get(
        movie_id, (fields["runtime"], None, [], [], [])
    )
    return MovieSource(
        {**fields, "runtime": runtime, "revenue": revenue},
        genres=[(genre_id, GENRES[genre_id]) for genre_id in genre_ids],
        cast=[(person_id, name, None) for person_id, name in cast],
        directors=list(directors),
        crew=list(crew),
        keywords=list(keywords),
        companies=list(companies),
    )


def with_fields(src: MovieSource, **changes: Any) -> MovieSource:
    return replace(src, fields={**src.fields, **changes})


SOURCES = [source(row) for row in ROWS]
DOCUMENTS = [to_document(src) for src in SOURCES]


def matching(f: MovieFilters) -> list[MovieSource]:
    """The reference answer: which corpus movies the filters admit, computed in Python."""
    return [src for src in SOURCES if _admits(f, src)]


def _admits(f: MovieFilters, src: MovieSource) -> bool:
    genre_ids = {genre_id for genre_id, _ in src.genres}
    cast_ids = {person_id for person_id, _, _ in src.cast}
    crew_ids = {person_id for person_id, _, _ in src.crew} | {pid for pid, _ in src.directors}
    people_ids = cast_ids | crew_ids
    keyword_ids = {keyword_id for keyword_id, _ in src.keywords}
    company_ids = {company_id for company_id, _ in src.companies}
    runtime = src.fields["runtime"]
    day = src.release_date
    checks = [
        not f.impossible,
        set(f.genres_all) <= genre_ids,
        not f.genres_any or bool(genre_ids & set(f.genres_any)),
        not f.languages or src.fields["original_language"] in f.languages,
        f.year is None or (day is not None and day.year == f.year),
        f.release_date_gte is None or (day is not None and day >= f.release_date_gte),
        f.release_date_lte is None or (day is not None and day <= f.release_date_lte),
        f.vote_average_gte is None or src.fields["vote_average"] >= f.vote_average_gte,
        f.vote_count_gte is None or src.fields["vote_count"] >= f.vote_count_gte,
        set(f.cast_all) <= cast_ids,
        not f.cast_any or bool(cast_ids & set(f.cast_any)),
        set(f.crew_all) <= crew_ids,
        not f.crew_any or bool(crew_ids & set(f.crew_any)),
        set(f.people_all) <= people_ids,
        not f.people_any or bool(people_ids & set(f.people_any)),
        all(keyword_ids & set(group) for group in f.keyword_groups),
        all(company_ids & set(group) for group in f.company_groups),
        f.runtime_gte is None or (runtime is not None and runtime >= f.runtime_gte),
        f.runtime_lte is None or (runtime is not None and runtime <= f.runtime_lte),
    ]
    return all(checks)
