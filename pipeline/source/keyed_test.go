package source

import (
	"strings"
	"testing"

	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/event"
)

func TestKeyedDefaultsByFormat(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		format string
		set    *bool
		want   bool
	}{
		{decode.FormatJSON, nil, true},
		{decode.FormatCloudEvents, nil, true},
		{decode.FormatOTLPProto, nil, false},
		{decode.FormatOTLPJSON, nil, false},
		{decode.FormatJSON, &no, false},
		{decode.FormatOTLPProto, &yes, true},
	} {
		tc := TopicConfig{Format: c.format, KeyedByWorkcycle: c.set}
		if got := tc.Keyed(); got != c.want {
			t.Errorf("%s with keyed_by_workcycle %v: Keyed() = %v, want %v", c.format, c.set, got, c.want)
		}
	}
}

func TestRepartitionNamesAndKey(t *testing.T) {
	if got := RekeyGroup("billing"); got != "billing-rekey" {
		t.Errorf("RekeyGroup = %q", got)
	}
	if got := RepartitionTopic("billing"); got != "billing-rekey-repartition" {
		t.Errorf("RepartitionTopic = %q", got)
	}
	// The NUL separator keeps ("a/b", "c") and ("a", "b/c") apart.
	if a, b := RepartitionKey(nil, "a/b", "c"), RepartitionKey(nil, "a", "b/c"); string(a) == string(b) {
		t.Errorf("keys collide: %q", a)
	}
}

func TestValidateGroupNamesARepartitionTopic(t *testing.T) {
	no := false
	base := DefaultConfig()
	base.Topics = []TopicConfig{{Name: "spans", Format: decode.FormatOTLPProto, Decode: decode.DefaultConfig()}}
	for _, c := range []struct {
		group, want string
	}{
		{"billing team", "kafka.group: may hold only"},
		{strings.Repeat("g", 240), "kafka.group: must be at most"},
	} {
		cfg := base
		cfg.Group = c.group
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("group %q: %v, want %q", c.group, err, c.want)
		}
	}
	// Every topic keyed: the group names no topic and is not checked.
	cfg := base
	cfg.Group = "billing team"
	cfg.Topics = []TopicConfig{{Name: "spans", Format: decode.FormatJSON, Decode: decode.DefaultConfig()}}
	if err := cfg.Validate(); err != nil {
		t.Errorf("keyed topics only: %v", err)
	}
	cfg = base
	cfg.Topics = append(cfg.Topics, TopicConfig{Name: RepartitionTopic(cfg.Group), Format: decode.FormatJSON, KeyedByWorkcycle: &no, Decode: decode.DefaultConfig()})
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "kafka.topics[1].name") {
		t.Errorf("the repartition topic as an input: %v", err)
	}
}

func TestRepartitionDecoder(t *testing.T) {
	in := event.Event{EventID: "e", Type: event.TypeWorkcycle, TenantID: "t", WorkcycleID: "w", Phase: event.PhaseStarted}
	value, _ := in.MarshalBinary()
	rec := decode.Record{Topic: "g-rekey-repartition", Partition: 2, Offset: 41, Value: value}
	evs, res := RepartitionDecoder{}.Decode(&rec, nil)
	if len(evs) != 1 || res.Rejections != nil || evs[0].EventID != "e" ||
		evs[0].Source != (event.Position{Topic: "g-rekey-repartition", Partition: 2, Offset: 41}) {
		t.Fatalf("got %+v, %+v", evs, res)
	}
	rec.Value = []byte(`{"event_id":"e"}`)
	evs, res = RepartitionDecoder{}.Decode(&rec, evs[:0])
	if len(evs) != 0 || len(res.Rejections) != 1 || res.Rejections[0].Reason != ReasonBadRepartitionRecord {
		t.Fatalf("a foreign record: %+v, %+v", evs, res)
	}
}
