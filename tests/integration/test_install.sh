#!/usr/bin/env bash
# 'cmake --install' puts the binary, every man page and the three completion scripts where the
# system looks for them (what scripts/install and the README's CI snippets rely on).
source "$(dirname "$0")/lib.sh"
: "${BUILD_DIR:?set by CTest}"
cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" >"$WORK/install.log" || fail "cmake --install failed: $(cat "$WORK/install.log")"
p="$WORK/prefix"
[ -x "$p/bin/billctl" ] || fail "no bin/billctl"
"$p/bin/billctl" version | grep -q '^billctl ' || fail "installed billctl does not run"
for page in "$SOURCE_DIR"/man/*.1; do
  [ -f "$p/share/man/man1/$(basename "$page")" ] || fail "man page $(basename "$page") not installed"
done
[ -f "$p/share/bash-completion/completions/billctl" ] || fail "bash completion not installed"
[ -f "$p/share/zsh/site-functions/_billctl" ] || fail "zsh completion not installed"
[ -f "$p/share/fish/vendor_completions.d/billctl.fish" ] || fail "fish completion not installed"
echo ok
