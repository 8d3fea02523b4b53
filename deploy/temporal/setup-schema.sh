#!/bin/sh
# Creates the two PostgreSQL databases of the Temporal cluster and brings their schemas to the
# version this server needs, through Temporal's own SQL tool and the schemas embedded in it.
# Idempotent: safe on every start. Used by docker-compose.yml (temporalio/admin-tools) and by
# `npm run test:production` (the tool built from source).
#   SQL_TOOL (default temporal-sql-tool), POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD
set -eu

tool="${SQL_TOOL:-temporal-sql-tool}"
export SQL_PLUGIN=postgres12
export SQL_HOST="${POSTGRES_HOST:-127.0.0.1}"
export SQL_PORT="${POSTGRES_PORT:-5432}"
export SQL_USER="${POSTGRES_USER:-temporal}"
export SQL_PASSWORD="${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"

for db in temporal temporal_visibility; do
  schema="postgresql/v12/${db#temporal_}" # temporal -> .../temporal, temporal_visibility -> .../visibility
  # create-database fails when the database exists; that is the idempotent case.
  "$tool" --db "$db" create-database >/dev/null 2>&1 || true
  # Version 0.0 only creates the schema_version table (a no-op when it is there).
  "$tool" --db "$db" setup-schema -v 0.0
  "$tool" --db "$db" update-schema --schema-name "$schema"
done
echo "temporal schemas ready on $SQL_HOST:$SQL_PORT"
