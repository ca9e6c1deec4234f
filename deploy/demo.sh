#!/usr/bin/env bash
# make demo: awumeter end to end on the local stack.
#
#   1. start Kafka and ClickHouse (deploy/local) and migrate a fresh
#      database (the demo owns it: it is dropped and recreated each run);
#   2. generate a month of agent telemetry for three tenants and produce it
#      to a fresh topic, with the expected final rows on the side;
#   3. run `awumeter run` (deploy/demo.yaml) until it has caught up: no lag,
#      nothing open, and every expected workcycle and AWU in ClickHouse;
#   4. stop it gracefully and print a summary from the query pack;
#   5. leave the stack running for exploration (make down stops it).
#
# Knobs (environment): AWUMETER_DEMO_WORKCYCLES (size), AWUMETER_DEMO_SEED,
# AWUMETER_DEMO_DATABASE, AWUMETER_DEMO_HTTP (the service's metrics
# address), AWUMETER_DEMO_TIMEOUT (seconds to catch up), and the ports of
# deploy/local/env.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/local/env.sh"

: "${AWUMETER_DEMO_WORKCYCLES:=30000}"
: "${AWUMETER_DEMO_SEED:=7}"
: "${AWUMETER_DEMO_DATABASE:=awumeter}"
: "${AWUMETER_DEMO_HTTP:=127.0.0.1:9464}"
: "${AWUMETER_DEMO_TIMEOUT:=900}"

bin=$repo_root/bin/awumeter
config=$here/demo.yaml
queries=$repo_root/schemas/chschema/queries
work=$AWUMETER_LOCAL_DIR/demo
db=$AWUMETER_DEMO_DATABASE
# These two names must match deploy/demo.yaml.
topic=awumeter-demo
dlq=awumeter-demo-dlq

t0=$SECONDS
step() {
  if [ -t 2 ]; then printf '\n\033[1m== %s\033[0m\n' "$*" >&2; else printf '\n== %s\n' "$*" >&2; fi
}
[ -x "$bin" ] || die "$bin is missing; build it with: make build"
mkdir -p "$work"

# The service reads these over deploy/demo.yaml. A new consumer group per
# run starts from the beginning of the fresh topic.
export AWUMETER_KAFKA_BROKERS=127.0.0.1:$AWUMETER_KAFKA_PORT
export AWUMETER_KAFKA_GROUP=awumeter-demo-$(date -u +%Y%m%d%H%M%S)
export AWUMETER_CLICKHOUSE_ADDRS=127.0.0.1:$AWUMETER_CH_PORT
export AWUMETER_CLICKHOUSE_DATABASE=$db
export AWUMETER_HTTP_LISTEN=$AWUMETER_DEMO_HTTP

ch() { clickhouse-client --host 127.0.0.1 --port "$AWUMETER_CH_PORT" "$@"; }

# pack NAME: a query of the pack without its final ";", ready to be used
# as a subquery. Its table names are unqualified: run it with --database.
pack() {
  local file=$queries/$1.sql sql
  [ -f "$file" ] || die "the query pack has no $1.sql"
  sql=$(sed -e 's/;[[:space:]]*$//' "$file")
  printf '%s\n' "$sql"
}

# A run left over by an interrupted demo would share the topic; stop it.
run_pid=$work/run.pid
stop_pidfile "awumeter run of an earlier demo" "$run_pid"
cleanup() {
  if pid_alive "$run_pid"; then
    log "stopping awumeter run"
    stop_pidfile "awumeter run" "$run_pid"
  fi
}
trap cleanup EXIT

step "1/5 local stack and a fresh database"
"$here/local/stack.sh" up
command -v clickhouse-client >/dev/null || die "clickhouse-client not found; run: deploy/local/stack.sh install"
log "dropping and recreating database $db (the demo owns it on the local stack)"
ch --query "DROP DATABASE IF EXISTS $db" || die "cannot drop database $db"
"$bin" migrate --clickhouse "$AWUMETER_CLICKHOUSE_ADDRS" --database "$db" | tail -n 1
"$bin" config check "$config" >/dev/null || die "$config does not pass awumeter config check"

step "2/5 a month of telemetry for three tenants"
# The month ends two days ago: nothing is in the future, and the decoder's
# time bounds and the engine's dedup horizon take all of it.
log "$AWUMETER_DEMO_WORKCYCLES workcycles over the 30 days up to two days ago, seed $AWUMETER_DEMO_SEED, to topic $topic"
"$bin" gen --seed "$AWUMETER_DEMO_SEED" --workcycles "$AWUMETER_DEMO_WORKCYCLES" --tenants 3 --agents 4 \
  --start -768h --span 720h \
  --kafka-brokers "$AWUMETER_KAFKA_BROKERS" --topic "$topic" --format json --client franz \
  --partitions 6 --reset-topics --prepare-topic "$dlq" \
  --truth "$work/truth.ndjson" 2>&1 | tee "$work/gen.log" >&2
produced=$(sed -n 's/^produced \([0-9]*\) records.*/\1/p' "$work/gen.log")
malformed=$(sed -n 's/.*, \([0-9]*\) malformed records.*/\1/p' "$work/gen.log")
want_wc=$(grep -c '"table":"workcycles"' "$work/truth.ndjson" || true)
want_awus=$(grep -c '"table":"awus"' "$work/truth.ndjson" || true)
[ "$want_wc" -gt 0 ] || die "the generator wrote no expected rows"
log "expecting $want_wc workcycles and $want_awus AWUs"

step "3/5 awumeter run until it has caught up"
"$bin" run --config "$config" >"$work/run.log" 2>&1 &
echo $! >"$run_pid"
log "awumeter run (pid $(cat "$run_pid")), group $AWUMETER_KAFKA_GROUP, logs in $work/run.log, metrics on http://$AWUMETER_DEMO_HTTP/metrics"

# metric NAME: the sum of a metric's series, or ? before it exists.
metric() {
  local body
  body=$(curl -fsS --max-time 2 "http://$AWUMETER_DEMO_HTTP/metrics" 2>/dev/null) || body=""
  awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2; n++ } END { if (n) printf "%d\n", s; else print "?" }' <<<"$body"
}
rows() { ch --query "SELECT count() FROM $db.$1 FINAL" 2>/dev/null || echo "?"; }

tty=false
[ -t 2 ] && tty=true
deadline=$((SECONDS + AWUMETER_DEMO_TIMEOUT))
last_print=0
caught_up_at=0
while :; do
  pid_alive "$run_pid" || { tail -n 20 "$work/run.log" >&2; die "awumeter run exited early; its log is above and in $work/run.log"; }
  read=$(metric awumeter_records_total)
  lag=$(metric awumeter_consumer_lag)
  open=$(metric awumeter_open_workcycles)
  wc=$(rows workcycles)
  awus=$(rows awus)
  line=$(printf 'read %s/%s records, lag %s, %s workcycles open; ClickHouse has %s/%s workcycles, %s/%s AWUs' \
    "$read" "$produced" "$lag" "$open" "$wc" "$want_wc" "$awus" "$want_awus")
  if $tty; then
    printf '\r\033[K[%s] %s' "$(date +%H:%M:%S)" "$line" >&2
  elif [ $((SECONDS - last_print)) -ge 10 ]; then
    log "$line"
    last_print=$SECONDS
  fi
  if [ "$lag" = 0 ] && [ "$open" = 0 ] && [ "$wc" = "$want_wc" ] && [ "$awus" = "$want_awus" ]; then
    caught_up_at=$SECONDS
    break
  fi
  [ "$SECONDS" -lt "$deadline" ] || { $tty && echo >&2; die "awumeter run did not catch up in ${AWUMETER_DEMO_TIMEOUT}s ($line); see $work/run.log"; }
  sleep 2
done
$tty && echo >&2
dead_letters=$(metric awumeter_dead_letters_total)
log "caught up in $((caught_up_at - t0))s since the demo started; $dead_letters records dead-lettered to $dlq (the generator wrote $malformed malformed)"

step "4/5 graceful stop"
pid=$(cat "$run_pid")
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
rm -f "$run_pid"
[ "$rc" -eq 0 ] || { tail -n 20 "$work/run.log" >&2; die "awumeter run exited with status $rc on SIGTERM"; }
log "$(grep -o '"msg":"stopped","took":"[^"]*"' "$work/run.log" | sed 's/.*"took":"\([^"]*\)"/stopped cleanly in \1/' || echo "stopped cleanly")"

# The rows must be exactly the ones the generator computed without the
# engine: compare counts and integer sums with the truth file.
sum_truth() { grep '"table":"workcycles"' "$work/truth.ndjson" | grep -o "\"$1\":[0-9]*" | awk -F: '{ s += $2 } END { printf "%d\n", s }'; }
want=$(printf '%s %s %s %s' "$want_wc" "$(sum_truth awus)" "$(sum_truth attempts)" "$(sum_truth input_tokens)")
got=$(ch --query "SELECT count(), sum(awus), sum(attempts), sum(input_tokens) FROM $db.workcycles FINAL" | tr '\t' ' ')
[ "$got" = "$want" ] || die "ClickHouse holds workcycles, AWUs, attempts, input tokens = $got; the generator expected $want"
log "ClickHouse matches the generator's expected rows: workcycles, AWUs, attempts, input tokens = $got"

step "5/5 what the month looked like"
fmt=(--format PrettyCompactNoEscapes --database "$db")
$tty && fmt=(--format PrettyCompactMonoBlock --database "$db")
echo
echo "Workcycles and AWUs per tenant, token cost vs list cost (USD)"
ch "${fmt[@]}" --query "
SELECT
    tenant_id                                     AS tenant,
    workcycles,
    awus_attempted                                AS awus,
    awus_succeeded                                AS succeeded,
    awus_validated                                AS validated,
    round(toFloat64(token_cost), 2)               AS token_cost,
    round(toFloat64(list_cost), 2)                AS list_cost,
    round(toFloat64(list_cost - token_cost), 2)   AS margin
FROM
(
    SELECT tenant_id, sum(workcycles) AS workcycles, sum(token_cost) AS token_cost, sum(list_cost) AS list_cost
    FROM ( $(pack cost_per_workcycle) )
    GROUP BY tenant_id
)
ANY LEFT JOIN
(
    SELECT tenant_id, sum(awus_attempted) AS awus_attempted, sum(awus_succeeded) AS awus_succeeded,
           sum(awus_validated) AS awus_validated
    FROM ( $(pack awu_funnel) )
    GROUP BY tenant_id
) USING tenant_id
ORDER BY tenant"
echo
echo "Tools with the lowest success rate (all tenants)"
ch "${fmt[@]}" --query "
SELECT
    tool,
    sum(awus)                                 AS tool_awus,
    sum(awus_succeeded)                       AS succeeded,
    round(succeeded / tool_awus, 4)           AS success_rate,
    sum(attempts)                             AS tool_attempts,
    round(succeeded / tool_attempts, 4)       AS attempt_success_rate
FROM ( $(pack tool_success_rate) )
GROUP BY tool
ORDER BY success_rate, tool
LIMIT 5"
echo
echo "Retry inflation: attempts per AWU, and the share of tokens spent on retries"
ch "${fmt[@]}" --query "$(pack retry_inflation)"
echo
log "demo finished in $((SECONDS - t0))s"
cat <<EOF

The stack keeps running. Query the data with:

  clickhouse-client --host 127.0.0.1 --port $AWUMETER_CH_PORT --database $db

  e.g.  SELECT tenant_id, outcome, count() FROM workcycles FINAL GROUP BY tenant_id, outcome ORDER BY tenant_id, outcome
  and the query pack: awumeter query --list, or the files in schemas/chschema/queries/.

A month's report, one HTML file to open in a browser:

  bin/awumeter report --database $db --month $(date -u -d '2 days ago' +%Y-%m) --output report.html

Stop the stack with: make down
EOF
