// Package config is the configuration of `awumeter run`: one YAML file,
// overridden by environment variables, overridden by --set flags.
//
// Every leaf key has an environment variable: AWUMETER_ followed by its path
// in upper case with dots as underscores, e.g. kafka.brokers is
// AWUMETER_KAFKA_BROKERS and clickhouse.password is
// AWUMETER_CLICKHOUSE_PASSWORD. Lists of strings are comma-separated. Lists
// of sections (kafka.topics) can only be set in the file.
//
// Each section is the Config of the stage that reads it (source.Config,
// sink.Config, engine.Config, ...), with its own defaults and Validate; this
// package composes them, loads them and lists every problem by key.
package config
