#!/bin/sh
# First start only: a role and a database per Fabrique service. The passwords are the
# ones in the services' database URLs (fabrique-secrets).
set -eu
for service in members registry sharing projects; do
  password=$(printenv "$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD")
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE $service LOGIN PASSWORD '$password';
CREATE DATABASE fabrique_$service OWNER $service;
SQL
  # The sharing service's no-overlap constraint needs btree_gist (a trusted extension).
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "fabrique_$service" \
    -c "CREATE EXTENSION IF NOT EXISTS btree_gist"
done
