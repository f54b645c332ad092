#!/usr/bin/env python3
"""The same 30-km box query as spatial-index.sh, on SQLite (the embedded default): the
b-tree on (latitude, longitude) the registry keeps there, against an R*Tree virtual
table it would have to keep in step with `places` by triggers. 100,000 points spread
evenly over mainland France's box, 2,000 queries around random points of the inner
area, one connection (as the embedded default's pool mostly is), in-memory pages.
Usage: python3 bench/sql/spatial-index-sqlite.py"""
import random
import sqlite3
import time
import uuid

random.seed(7)
db = sqlite3.connect(":memory:")
db.execute(
    "CREATE TABLE places (id BLOB PRIMARY KEY, latitude REAL NOT NULL, "
    "longitude REAL NOT NULL, state TEXT NOT NULL)"
)
rows = [
    (uuid.uuid4().bytes, 43.5 + random.random() * 6.5, -1.0 + random.random() * 7.5, "listed")
    for _ in range(100_000)
]
db.executemany("INSERT INTO places VALUES (?, ?, ?, ?)", rows)
db.execute("CREATE INDEX places_latitude ON places (latitude, longitude)")
db.execute("CREATE VIRTUAL TABLE places_rtree USING rtree(n, min_lat, max_lat, min_lon, max_lon)")
db.execute(
    "INSERT INTO places_rtree SELECT rowid, latitude, latitude, longitude, longitude FROM places"
)
db.execute("ANALYZE")
centres = [(44.0 + random.random() * 5.0, random.random() * 5.5) for _ in range(2_000)]
queries = {
    "b-tree": "SELECT id, latitude, longitude FROM places WHERE state = 'listed' "
    "AND latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ?",
    # The box through the R*Tree first (a join lets the planner scan `places` instead).
    "R*Tree": "SELECT id, latitude, longitude FROM places WHERE state = 'listed' "
    "AND rowid IN (SELECT n FROM places_rtree "
    "WHERE min_lat >= ? AND max_lat <= ? AND min_lon >= ? AND max_lon <= ?)",
}
for name, sql in queries.items():
    found = 0
    began = time.perf_counter()
    for lat, lon in centres:
        found += len(db.execute(sql, (lat - 0.27, lat + 0.27, lon - 0.39, lon + 0.39)).fetchall())
    took = time.perf_counter() - began
    print(f"{name}: {took / len(centres) * 1e3:.3f} ms a query, {found / len(centres):.0f} places each")
