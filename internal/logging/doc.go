// Package logging builds the service's zap logger from the log section of
// the configuration: JSON lines in production, a colored console format when
// stderr is a terminal, so the same binary reads well in a pod and in a shell.
package logging
