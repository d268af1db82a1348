# tap.sh: what the tools' shell tests share, sourced by them.  A test
# script sets `tool` (the program under test) before sourcing, reports
# with `check`, and ends with `tap_end`.  Output is TAP for meson.

tool_name=$(basename "$tool")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failures=0

ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); echo "not ok $n - $1"; failures=$((failures + 1)); }
skip () { n=$((n + 1)); echo "ok $n # SKIP $1"; }
diag () { sed 's/^/# /' "$@"; }

# check DESCRIPTION COMMAND...: one test point, passing if COMMAND does.
check () {
  desc=$1; shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# run EXPECTED_STATUS ARGS...: runs the tool, output in $tmp/out and
# $tmp/err; true if it exits with EXPECTED_STATUS.
run () {
  want=$1; shift
  "$tool" "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "# $tool_name $*: exit $got, want $want"
    diag "$tmp/err"
    return 1
  fi
}

lines () { wc -l <"$1" | tr -d ' '; }

# tap_end: the plan, and the exit status meson reads.
tap_end () {
  echo "1..$n"
  exit $((failures > 0))
}
