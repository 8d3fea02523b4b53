#!/bin/sh
# Waits (bounded) until the Temporal frontend serves, then registers the service's namespace when
# missing. The service registers its own search attributes when it starts (temporal/search-attribute-registration.ts).
# Used by docker-compose.yml (temporalio/admin-tools) and by `npm run test:production`.
#   TEMPORAL_CLI (default temporal), TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE (default "default"),
#   NAMESPACE_RETENTION (default 720h: closed onboardings stay visible for 30 days)
set -eu

cli="${TEMPORAL_CLI:-temporal}"
namespace="${TEMPORAL_NAMESPACE:-default}"
tries=0
until "$cli" operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 90 ]; then echo "Temporal at $TEMPORAL_ADDRESS is not serving after 90 s" >&2; exit 1; fi
  sleep 1
done
if "$cli" operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$namespace" >/dev/null 2>&1; then
  echo "namespace $namespace exists"
else
  "$cli" operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$namespace" \
    --retention "${NAMESPACE_RETENTION:-720h}"
fi
