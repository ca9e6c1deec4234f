package event_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/pipeline/event"
)

func randomEvent(r *rand.Rand) event.Event {
	s := func() string {
		const alphabet = "abcXYZ019-_/\x00é🙂"
		n := r.IntN(12)
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	n := func() int64 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return math.MaxInt64 - r.Int64N(3)
		default:
			return r.Int64N(1 << 40)
		}
	}
	return event.Event{
		EventID: s(), Type: event.Type(r.IntN(4)),
		Time:     time.Unix(0, r.Int64N(1<<62)-1<<61).UTC(),
		TenantID: s(), WorkcycleID: s(), AgentID: s(), ConversationID: s(), AWUID: s(),
		Attempt: r.Int32(), Model: s(), Provider: s(),
		InputTokens: n(), OutputTokens: n(), CacheReadInputTokens: n(), CacheCreationInputTokens: n(), ReasoningTokens: n(),
		Tool: s(), Channel: event.Channel(r.IntN(2)), Status: event.ToolStatus(r.IntN(5)), Phase: event.Phase(r.IntN(3)),
		Outcome: s(), OutcomeType: s(),
		HumanMillis: r.Int64N(event.MaxHumanMillis + 1), CSAT: uint8(r.IntN(6)),
		ResolvedBy: event.Actor(r.IntN(3)), By: event.Actor(r.IntN(4)),
		Source: event.Position{Topic: "t", Partition: 3, Offset: 9},
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		in := randomEvent(r)
		b, err := in.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out := event.Event{Source: event.Position{Topic: "rekeyed", Partition: 1, Offset: 7}}
		if err := out.UnmarshalBinary(b); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if out.Source != (event.Position{Topic: "rekeyed", Partition: 1, Offset: 7}) {
			t.Fatalf("Source was overwritten: %+v", out.Source)
		}
		if !out.Time.Equal(in.Time) || out.Time.Location() != time.UTC {
			t.Fatalf("time %v, want %v in UTC", out.Time, in.Time)
		}
		out.Time = in.Time
		out.Source = in.Source
		if !reflect.DeepEqual(out, in) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, out, in)
		}
		if out.ContentHash() != in.ContentHash() {
			t.Fatalf("event %d: content hash differs", i)
		}
	}
}

// The version 2 layout: version 1's fields, then the outcome fields of
// contract v1, written out by hand.
func TestBinaryLayoutV2(t *testing.T) {
	ev := event.Event{
		EventID: "e1", Type: event.TypeWorkcycle, Time: time.Unix(0, 1_000_000).UTC(),
		TenantID: "t", WorkcycleID: "w", Phase: event.PhaseCompleted, Outcome: "resolved",
		HumanMillis: 90_000, CSAT: 4, ResolvedBy: event.ActorHuman,
	}
	want := []byte{
		2,           // version
		2, 'e', '1', // event_id
		3,                // type workcycle
		0x80, 0x89, 0x7a, // time 1e6 ns, zigzag 2e6
		1, 't', 1, 'w', 0, 0, 0, // tenant, workcycle, agent, conversation, awu
		0,    // attempt: none on a workcycle event
		0, 0, // model, provider
		0, 0, 0, 0, 0, // token counts
		0,       // tool
		0, 0, 2, // channel, status, phase completed
		8, 'r', 'e', 's', 'o', 'l', 'v', 'e', 'd', 0, // outcome, outcome_type
		0xa0, 0xfe, 0x0a, // human_millis 90,000: zigzag 180,000 = 32 + 126×128 + 10×128²
		4, 2, 0, // csat, resolved_by human, by
	}
	got, _ := ev.MarshalBinary()
	if string(got) != string(want) {
		t.Fatalf("encoding\n got %v\nwant %v", got, want)
	}
	var back event.Event
	if err := back.UnmarshalBinary(want); err != nil || back.HumanMillis != 90_000 || back.CSAT != 4 || back.ResolvedBy != event.ActorHuman {
		t.Fatalf("decoded %+v, %v", back, err)
	}
}

// A fixed encoding, written out by hand, so that a layout change cannot
// pass unnoticed: records of the old layout may still wait in the
// repartition topic when a new release starts, and are still read.
func TestBinaryLayoutV1(t *testing.T) {
	ev := event.Event{
		EventID: "e1", Type: event.TypeTokenUsage, Time: time.Unix(0, 1_000_000).UTC(),
		TenantID: "t", WorkcycleID: "w", AWUID: "a", Attempt: 2, Model: "m",
		InputTokens: 3, OutputTokens: 1, ReasoningTokens: 1,
	}
	want := []byte{
		1,           // version
		2, 'e', '1', // event_id
		1,                // type token_usage
		0x80, 0x89, 0x7a, // time 1e6 ns, zigzag 2e6
		1, 't', 1, 'w', 0, 0, 1, 'a', // tenant, workcycle, agent, conversation, awu
		4,         // attempt 2, zigzag
		1, 'm', 0, // model, provider
		6, 2, 0, 0, 2, // input 3, output 1, cache read, cache creation, reasoning 1
		0,       // tool
		0, 0, 0, // channel, status, phase
		0, 0, // outcome, outcome_type
	}
	var back event.Event
	if err := back.UnmarshalBinary(want); err != nil {
		t.Fatal(err)
	}
	back.Time = ev.Time
	if !reflect.DeepEqual(back, ev) {
		t.Fatalf("version 1 read as\n%+v\nwant\n%+v", back, ev)
	}
}

func TestBinaryRefusesBadInput(t *testing.T) {
	good, _ := (&event.Event{EventID: "e", Type: event.TypeWorkcycle, Time: time.Unix(1, 0), TenantID: "t", WorkcycleID: "w", Phase: event.PhaseStarted}).MarshalBinary()
	cases := map[string][]byte{
		"empty":           nil,
		"version 3":       append([]byte{3}, good[1:]...),
		"bad csat":        replaceAt(good, len(good)-3, 6),
		"bad resolved_by": replaceAt(good, len(good)-2, 9),
		"truncated":       good[:len(good)-1],
		"trailing":        append(append([]byte{}, good...), 0),
		"length beyond":   {2, 0x7f, 'a'},
		"bad type":        replaceAt(good, 3, 9),
		"overlong varint": append([]byte{2, 0}, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
	}
	for name, b := range cases {
		var ev event.Event
		if err := ev.UnmarshalBinary(b); !errors.Is(err, event.ErrBinary) {
			t.Errorf("%s: err = %v, want ErrBinary", name, err)
		}
	}
}

func replaceAt(b []byte, i int, v byte) []byte {
	c := append([]byte{}, b...)
	c[i] = v
	return c
}

func FuzzUnmarshalBinary(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		ev := randomEvent(r)
		b, _ := ev.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev event.Event
		if ev.UnmarshalBinary(b) != nil {
			return
		}
		again, _ := ev.MarshalBinary()
		var ev2 event.Event
		if err := ev2.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if ev2.ContentHash() != ev.ContentHash() {
			t.Fatal("re-encoding changed the content")
		}
	})
}

func BenchmarkBinary(b *testing.B) {
	ev := event.Event{
		EventID: "0195d3c4-7a1e-7c3f-9e55-3b1f2a4c5d6e", Type: event.TypeTokenUsage, Time: time.Now().UTC(),
		TenantID: "acme", WorkcycleID: "wc-0195d3c4-7a1e", AgentID: "support-agent", ConversationID: "conv-81",
		AWUID: "awu-3", Attempt: 1, Model: "claude-sonnet-4-5", Provider: "anthropic",
		InputTokens: 12000, OutputTokens: 800, CacheReadInputTokens: 9000, ReasoningTokens: 200,
	}
	var buf []byte
	var out event.Event
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = ev.AppendBinary(buf[:0])
		if err := out.UnmarshalBinary(buf); err != nil {
			b.Fatal(err)
		}
	}
}
