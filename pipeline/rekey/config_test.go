package rekey

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesEveryBadKey(t *testing.T) {
	c := Config{Partitions: -1, ReplicationFactor: 0, Retention: 0, TransactionTimeout: 500 * time.Millisecond}
	err := c.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, key := range []string{"rekey.partitions:", "rekey.replication_factor:", "rekey.retention:", "rekey.transaction_timeout:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("no problem for %s in:\n%v", key, err)
		}
	}
	c = DefaultConfig()
	c.ReplicationFactor = -2
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "rekey.replication_factor") {
		t.Errorf("replication_factor -2: %v", err)
	}
}
