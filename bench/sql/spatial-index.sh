#!/usr/bin/env bash
# How the registry's 30-km box query costs PostgreSQL with the b-tree on (latitude,
# longitude) against the GiST index on point(longitude, latitude) that replaced it
# (docs/performance.md, "The places' spatial index"). Builds a scratch database holding
# 100,000 points spread evenly over mainland France's box, as fabrique-bench loads
# them, then runs the same query for 10 s with each index alone through pgbench, and
# shows one plan of each. Usage: bench/sql/spatial-index.sh [postgres URL of a server
# where the user may create databases]
set -euo pipefail
URL="${1:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="fabrique_spatial_$$"
BASE="${URL%/*}"
PGBENCH="${PGBENCH:-$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)}"
psql -qX "$URL" -c "CREATE DATABASE $DB"
trap 'psql -qX "$URL" -c "DROP DATABASE IF EXISTS $DB" >/dev/null' EXIT
psql -qX "$BASE/$DB" <<'SQL'
CREATE TABLE places (id uuid PRIMARY KEY, latitude double precision NOT NULL,
  longitude double precision NOT NULL, state text NOT NULL);
INSERT INTO places
  SELECT gen_random_uuid(), 43.5 + random() * 6.5, -1.0 + random() * 7.5, 'listed'
  FROM generate_series(1, 100000);
VACUUM ANALYZE places;
SQL
# A 30-km box around a random point of the inner area, as a near search asks.
cat > "/tmp/$DB.sql" <<'SQL'
\set lat random(44000, 49000)
\set lon random(0, 5500)
SELECT id, latitude, longitude FROM places WHERE state = 'listed' AND QUERY;
SQL
run() {
  local name="$1" create="$2" where="$3"
  psql -qX "$BASE/$DB" -c "DROP INDEX IF EXISTS places_box" -c "$create" -c "ANALYZE places"
  sed "s|QUERY|$where|" "/tmp/$DB.sql" > "/tmp/$DB.$name.sql"
  echo "== $name"
  "$PGBENCH" -n -c 4 -j 2 -T 10 -f "/tmp/$DB.$name.sql" "$BASE/$DB" | grep -E "tps|latency average"
  local one="${where//:lat/46500}"; one="${one//:lon/2500}"
  psql -qX "$BASE/$DB" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id, latitude, longitude FROM places WHERE state = 'listed' AND $one" \
    | grep -E "Index|Buffers|Heap|Execution"
}
BOX_LAT="latitude BETWEEN :lat / 1000.0 - 0.27 AND :lat / 1000.0 + 0.27"
BOX_LON="longitude BETWEEN :lon / 1000.0 - 0.39 AND :lon / 1000.0 + 0.39"
run b-tree "CREATE INDEX places_box ON places (latitude, longitude)" "$BOX_LAT AND $BOX_LON"
run gist "CREATE INDEX places_box ON places USING gist (point(longitude, latitude)) INCLUDE (id, latitude, longitude, state)" \
  "point(longitude, latitude) <@ box(point(:lon / 1000.0 - 0.39, :lat / 1000.0 - 0.27), point(:lon / 1000.0 + 0.39, :lat / 1000.0 + 0.27))"
rm -f "/tmp/$DB".*sql
