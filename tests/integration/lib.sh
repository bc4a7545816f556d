# Shared helpers for the integration tests: a temp dir removed on exit, and assertions.
set -euo pipefail
: "${BILLCTL_BIN:?set by CTest}"
: "${GEN_USAGE:?set by CTest}"
: "${SOURCE_DIR:?set by CTest}"
WORK=$(mktemp -d /tmp/billctl-it-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export TZ=UTC LC_ALL=C NO_COLOR=1 BILLCTL_NOW=2026-11-02T08:00:00Z
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/data"
mkdir -p "$HOME"
billctl() { "$BILLCTL_BIN" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
assert_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }
# The exact total cost of a report (JSON on stdin).
exact_total() { python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["cost_exact"])'; }
records_total() { python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["records"])'; }
