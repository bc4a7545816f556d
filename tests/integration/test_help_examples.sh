#!/usr/bin/env bash
# Every command's --help ends with its examples, and lists the global options. Each example names
# its command and only flags that command (or the top level) takes.
source "$(dirname "$0")/lib.sh"
billctl __flags >"$WORK/flags"
billctl __examples >"$WORK/examples"
# Every command (and group) has examples, and its --help ends with them.
grep -v $'\t' "$WORK/flags" | while read -r line; do
  path=${line#billctl}; path=${path# }
  key=${path:--}
  n=$(awk -F'\t' -v k="$key" '$1 == k' "$WORK/examples" | wc -l)
  [ "$n" -ge 1 ] || fail "no examples for 'billctl $path'"
  help=$(billctl $path --help)
  tail -n "$((n + 1))" <<<"$help" | head -1 | grep -qx 'Examples:' || fail "'billctl $path --help' does not end with its examples"
  if [ -n "$path" ]; then
    grep -q -- '--db PATH' <<<"$help" || fail "'billctl $path --help' does not list the global options"
  fi
done
# Each example runs its own command (or, for a group, one of its commands) with flags that
# command takes.
while IFS=$'\t' read -r key example; do
  cmdline=${example#*billctl }
  read -ra words <<<"$cmdline"
  # Global options may come first.
  i=0
  while [[ "${words[$i]:-}" == --* ]] && grep -qx $'billctl\t'"${words[$i]}" "$WORK/flags"; do i=$((i + 2)); done
  path=""
  while [ -n "${words[$i]:-}" ] && grep -qx "billctl${path:+ $path} ${words[$i]}" "$WORK/flags"; do
    path="${path:+$path }${words[$i]}"; i=$((i + 1))
  done
  [ "$key" == - ] || [[ "$path" == "$key" || "$path" == "$key "* ]] || fail "example of 'billctl $key' runs 'billctl $path': $example"
  [ -n "$path" ] || fail "example of 'billctl $key' runs no command: $example"
  for w in "${words[@]:$i}"; do
    [[ "$w" == -* && "$w" != -100 ]] || continue
    flag=${w%%=*}
    grep -qx "billctl $path"$'\t'"$flag" "$WORK/flags" || grep -qx $'billctl\t'"$flag" "$WORK/flags" ||
      fail "example of 'billctl $path' uses $flag, which it does not take: $example"
  done
done <"$WORK/examples"
echo "ok: help examples"
