// Package testenv lets integration tests reach the local stack (Kafka and
// ClickHouse started by deploy/local) or any other stack named by the
// environment, and gives each test its own uniquely named topics and
// databases, removed when the test ends. Collector runs a real OpenTelemetry
// Collector (OTLP/HTTP in, Kafka exporter out) for the test.
//
// A test that needs a server it cannot reach is skipped with a message that
// says how to start the stack, unless AWUMETER_REQUIRE_STACK=1 is set (as
// `make test` does): then it fails, so a CI run can never pass by skipping.
//
// Environment:
//
//	AWUMETER_KAFKA_BROKERS     comma-separated seed brokers (default 127.0.0.1:$AWUMETER_KAFKA_PORT, port 9092)
//	AWUMETER_CLICKHOUSE_ADDR   native-protocol address (default 127.0.0.1:$AWUMETER_CH_PORT, port 9000)
//	AWUMETER_CLICKHOUSE_USER, AWUMETER_CLICKHOUSE_PASSWORD
//	AWUMETER_REQUIRE_STACK     1 to fail instead of skip when a server is unreachable
//	AWUMETER_OTELCOL_BIN       the OpenTelemetry Collector that Collector runs (default: the
//	                           `make collector` build in $AWUMETER_LOCAL_DIR/otelcol, default .local)
//	AWUMETER_REQUIRE_COLLECTOR 1 to fail instead of skip when that binary is missing
package testenv
