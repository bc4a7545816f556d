# A real ClickHouse server for a test (Debian's clickhouse-server, installed by scripts/deps):
# start_clickhouse NAME starts one on free loopback ports with its own data, log and user_files
# directories under $WORK/NAME, and sets ${NAME}_HTTP (its HTTP port). Users: default (no
# password) and billing (password s3cret). The server stops when the test exits (lib.sh's cleanup).
CLICKHOUSE_SERVER=${CLICKHOUSE_SERVER:-/usr/sbin/clickhouse-server}
[ -x "$CLICKHOUSE_SERVER" ] || fail "clickhouse-server is not installed (scripts/deps installs it)"

write_clickhouse_config() {  # DIR HTTP TCP INTERSERVER [REMOTE_SERVERS_XML]
  local dir=$1
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/log" "$dir/format_schemas"
  cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$2</http_port>
  <tcp_port>$3</tcp_port>
  <interserver_http_port>$4</interserver_http_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
  ${5:-}
</yandex>
XML
  cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage><max_threads>2</max_threads></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <billing><password>s3cret</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></billing>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
}

# run_clickhouse NAME: (re)starts the server configured in $WORK/NAME and waits until it answers.
run_clickhouse() {
  local name=$1 dir="$WORK/$1" http
  http=$(sed -n 's:.*<http_port>\(.*\)</http_port>.*:\1:p' "$dir/config.xml")
  "$CLICKHOUSE_SERVER" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
  PIDS+=($!)
  printf -v "${name}_PID" '%s' "$!"
  for _ in $(seq 300); do
    [ "$(curl -s "http://127.0.0.1:$http/ping" 2>/dev/null)" == "Ok." ] && { printf -v "${name}_HTTP" '%s' "$http"; return 0; }
    sleep 0.1
  done
  cat "$dir/log/stdout.log" "$dir/log/error.log" >&2 2>/dev/null || true
  fail "clickhouse-server $name did not start"
}

start_clickhouse() {  # NAME [REMOTE_SERVERS_XML]
  local dir="$WORK/$1"
  write_clickhouse_config "$dir" "$(free_port)" "$(free_port)" "$(free_port)" "${2:-}"
  run_clickhouse "$1"
}

# stop_clickhouse NAME: stops the server and waits for it to exit.
stop_clickhouse() {
  local pid_var="${1}_PID"
  kill "${!pid_var}" 2>/dev/null || true
  wait "${!pid_var}" 2>/dev/null || true
}

# ch_query PORT SQL: runs SQL on the server (as default) and prints the TabSeparated result.
ch_query() { curl -sS --fail-with-body --data-binary "$2" "http://127.0.0.1:$1/"; }

# same ARGS...: billctl with the flags in the arrays S (the embedded store) and C (ClickHouse) gives
# the same stdout, stderr and exit code; with SAME_OK=1 that exit code must be 0.
same() {
  local a b
  set +e
  billctl "${S[@]}" "$@" >"$WORK/a.out" 2>"$WORK/a.err"; a=$?
  billctl "${C[@]}" "$@" >"$WORK/b.out" 2>"$WORK/b.err"; b=$?
  set -e
  [ "$a" == "$b" ] || fail "$*: exit $a with SQLite, $b with ClickHouse: $(cat "$WORK/b.err")"
  [ "${SAME_OK:-0}" == 0 ] || [ "$a" == 0 ] || fail "$*: exit $a: $(cat "$WORK/a.err")"
  cmp -s "$WORK/a.out" "$WORK/b.out" || fail "$*: outputs differ:
$(diff "$WORK/a.out" "$WORK/b.out" | head -20)"
  cmp -s "$WORK/a.err" "$WORK/b.err" || fail "$*: messages differ:
$(diff "$WORK/a.err" "$WORK/b.err" | head -20)"
  [ -s "$WORK/a.out" ] || [ "$a" != 0 ] || [ "${SAME_EMPTY_OK:-0}" == 1 ] || fail "$*: no output"
}
