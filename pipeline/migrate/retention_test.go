package migrate

import (
	"context"
	"strings"
	"testing"
)

func TestEventsRetentionShorterThanTheCorrectionHorizonIsRefused(t *testing.T) {
	_, err := Prepare(context.Background(), nil, Options{EventsRetentionDays: 30})
	if err == nil || !strings.Contains(err.Error(), "must be 0 (keep forever) or at least 35 days") {
		t.Fatalf("err = %v, want the 35-day minimum", err)
	}
}
