package decode_test

import (
	"fmt"
	"time"

	"github.com/awumeter/awumeter/pipeline/decode"
)

func Example() {
	now := func() time.Time { return time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) }
	d, err := decode.New(decode.FormatJSON, decode.DefaultConfig(), decode.Settings{Now: now})
	if err != nil {
		panic(err)
	}
	good := &decode.Record{Topic: "agent-events", Offset: 1, Value: []byte(`{"event_id":"e1","type":"tool_invocation",
		"time":"2026-03-01T12:00:00Z","tenant_id":"acme","workcycle_id":"wc-1","awu_id":"call_1","tool":"refund","status":"succeeded"}`)}
	bad := &decode.Record{Topic: "agent-events", Offset: 2, Value: []byte(`{"event_id":"e2","type":"token_usage"}`)}

	evs, _ := d.Decode(good, nil)
	evs, res := d.Decode(bad, evs)
	for _, e := range evs {
		fmt.Println(e.Type, e.TenantID, e.AWUID, e.Status, e.Source.Offset)
	}
	for _, r := range res.Rejections {
		fmt.Println(r.Reason, "-", r.Detail)
	}
	// Output:
	// tool_invocation acme call_1 succeeded 1
	// missing_field - missing field time
}
