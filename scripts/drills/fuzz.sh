#!/usr/bin/env bash
# Drill: the fuzzing run — schemathesis over every operation of the OpenAPI document
# against a throwaway server. It lives in scripts/fuzz-api.sh (CI runs it with
# MAX_EXAMPLES=10); this is its name among the drills. A longer run:
#
#   MAX_EXAMPLES=200 scripts/drills/fuzz.sh
exec "$(dirname "$0")/../fuzz-api.sh" "$@"
