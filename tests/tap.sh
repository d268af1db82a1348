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

# bad_args DESCRIPTION ARGS...: exit 2 with exactly one line on stderr.
bad_args () {
  desc=$1; shift
  if run 2 "$@" && [ "$(lines "$tmp/err")" -eq 1 ]; then
    ok "bad arguments exit 2 with one line: $desc"
  else
    diag "$tmp/err"
    not_ok "bad arguments exit 2 with one line: $desc"
  fi
}

# png_size FILE: "WIDTH HEIGHT" from the PNG header, or nothing if FILE is
# not a PNG.
png_size () {
  sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
  [ "$sig" = "89504e470d0a1a0a" ] || return 1
  od -An -tu1 -j16 -N8 "$1" | awk '{
    print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4,
          $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }'
}

# tap_end: the plan, and the exit status meson reads.
tap_end () {
  echo "1..$n"
  exit $((failures > 0))
}
