package source

import (
	"strings"
	"testing"
)

func TestDeadLetterBoundIsValidatedByItsKey(t *testing.T) {
	cfg := DefaultConfig()
	tc := DefaultTopicConfig()
	tc.Name = "telemetry"
	cfg.Topics = []TopicConfig{tc}
	if cfg.DeadLetterMaxBufferedBytes != 16<<20 {
		t.Errorf("default kafka.dead_letter_max_buffered_bytes %d, want 16 MiB", cfg.DeadLetterMaxBufferedBytes)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cfg.DeadLetterMaxBufferedBytes = 1<<20 - 1
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "kafka.dead_letter_max_buffered_bytes: must be at least 1048576") {
		t.Errorf("a bound below 1 MiB: %v", err)
	}
}
