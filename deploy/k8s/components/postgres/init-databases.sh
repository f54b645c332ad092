#!/bin/sh
# First start only: a role and a database per Fabrique service, one for each
# <SERVICE>_DB_PASSWORD in the environment (the Secret fabrique-postgres, whose passwords
# are the ones in the services' database URLs in fabrique-secrets).
set -eu
found=0
for variable in $(env | sed -n 's/^\([A-Z][A-Z0-9_]*\)_DB_PASSWORD=.*/\1/p'); do
  service=$(echo "$variable" | tr '[:upper:]' '[:lower:]')
  password=$(printenv "${variable}_DB_PASSWORD")
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE $service LOGIN PASSWORD '$password';
CREATE DATABASE fabrique_$service OWNER $service;
SQL
  # The sharing service's no-overlap constraint needs btree_gist (a trusted extension).
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "fabrique_$service" \
    -c "CREATE EXTENSION IF NOT EXISTS btree_gist"
  found=$((found + 1))
done
# A Secret without them would leave every service unable to connect: say so now.
[ "$found" -gt 0 ] || { echo "init-databases.sh: no <SERVICE>_DB_PASSWORD in the environment" >&2; exit 1; }
