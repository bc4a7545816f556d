#!/usr/bin/env bash
# Every command and flag of the real command tree appears in its man page and in what TAB offers
# (billctl __complete, which the completion scripts call), and the checked-in completions are what
# 'billctl completion' prints.
source "$(dirname "$0")/lib.sh"
man="$SOURCE_DIR/man"
comp="$SOURCE_DIR/completions"
for shell in bash zsh fish; do
  case $shell in bash) f=billctl.bash ;; zsh) f=_billctl ;; fish) f=billctl.fish ;; esac
  billctl completion $shell | diff -u "$comp/$f" - >"$WORK/diff" ||
    fail "completions/$f is stale; regenerate it with: billctl completion $shell > completions/$f
$(cat "$WORK/diff")"
done
# Man pages with roff's \- turned back into -.
for page in "$man"/*.1; do sed 's/\\-/-/g' "$page" >"$WORK/$(basename "$page").txt"; done
missing=0
while IFS=$'\t' read -r path flag; do
  set -- $path
  case "${2:-}" in
    usage | report | prices | budgets | credits | invoices | forecast | serve) page="billctl-$2.1" ;;
    *) page="billctl.1" ;;
  esac
  [ -f "$WORK/$page.txt" ] || { echo "no man page $page for '$path'"; missing=1; continue; }
  for section in EXIT ENVIRONMENT FILES EXAMPLES; do
    grep -q "^\.SH $section" "$WORK/$page.txt" || { echo "$page has no $section section"; missing=1; }
  done
  if [ -z "$flag" ]; then
    # A command: its last word must be documented.
    [ $# -gt 1 ] && { grep -qw -- "${@: -1}" "$WORK/$page.txt" || { echo "$page does not mention '$path'"; missing=1; }; }
    continue
  fi
  grep -q -- "$flag\b" "$WORK/$page.txt" || { echo "$page does not document $flag of '$path'"; missing=1; }
  if [[ "$flag" == --* ]]; then
    billctl __complete ${path#billctl} -- | cut -f1 | grep -qx -- "$flag" || { echo "completion of '$path' lacks $flag"; missing=1; }
  fi
done < <(billctl __flags)
[ $missing -eq 0 ] || fail "documentation is missing flags (see above)"
echo ok
