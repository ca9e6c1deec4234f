package sink

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

// AWUModelRow is the engine's row of table awu_models: the token use and
// cost of one AWU for one model.
type AWUModelRow = engine.AWUModelRow

func tokenCols[R any](f func(*R) *engine.TokenCounts) []column[R] {
	return []column[R]{
		i64Col("input_tokens", func(r *R) int64 { return f(r).InputTokens }),
		i64Col("output_tokens", func(r *R) int64 { return f(r).OutputTokens }),
		i64Col("cache_read_input_tokens", func(r *R) int64 { return f(r).CacheReadInputTokens }),
		i64Col("cache_creation_input_tokens", func(r *R) int64 { return f(r).CacheCreationInputTokens }),
		i64Col("reasoning_tokens", func(r *R) int64 { return f(r).ReasoningTokens }),
	}
}

type wc = engine.WorkcycleRow

var workcycleColumns = concat[wc](
	dimCol("tenant_id", func(r *wc) string { return r.TenantID }),
	strCol("workcycle_id", func(r *wc) string { return r.WorkcycleID }),
	dimCol("agent_id", func(r *wc) string { return r.AgentID }),
	strCol("conversation_id", func(r *wc) string { return r.ConversationID }),
	dimCol("outcome", func(r *wc) string { return r.Outcome }),
	dimCol("outcome_type", func(r *wc) string { return r.OutcomeType }),
	i64Col("human_millis", func(r *wc) int64 { return r.HumanMillis }),
	u8Col("csat", func(r *wc) uint8 { return r.CSAT }),
	dimCol("resolved_by", func(r *wc) string { return r.ResolvedBy }),
	timeCols("started_at", func(r *wc) time.Time { return r.StartedAt }),
	timeCols("ended_at", func(r *wc) time.Time { return r.EndedAt }),
	i64Col("awus", func(r *wc) int64 { return r.AWUs }),
	i64Col("awus_succeeded", func(r *wc) int64 { return r.AWUsSucceeded }),
	i64Col("awus_failed", func(r *wc) int64 { return r.AWUsFailed }),
	i64Col("awus_validated", func(r *wc) int64 { return r.AWUsValidated }),
	i64Col("awus_rolled_back", func(r *wc) int64 { return r.AWUsRolledBack }),
	i64Col("awus_overridden", func(r *wc) int64 { return r.AWUsOverridden }),
	i64Col("actions", func(r *wc) int64 { return r.Actions }),
	i64Col("voice_actions", func(r *wc) int64 { return r.VoiceActions }),
	i64Col("attempts", func(r *wc) int64 { return r.Attempts }),
	i64Col("retries", func(r *wc) int64 { return r.Retries }),
	tokenCols(func(r *wc) *engine.TokenCounts { return &r.TokenCounts }),
	decCol("token_cost", func(r *wc) decimal.Decimal { return r.TokenCost }),
	i64Col("credits", func(r *wc) int64 { return r.Credits }),
	decCol("list_cost", func(r *wc) decimal.Decimal { return r.ListCost }),
	i64Col("unpriced_tokens", func(r *wc) int64 { return r.UnpricedTokens }),
	dimCol("state", workcycleState),
	u64Col("version", func(r *wc) uint64 { return r.Version }),
)

// workcycleState is a row's state; rows made by hand (tests, tools) that
// leave it empty are closing rows.
func workcycleState(r *wc) string {
	if r.State == "" {
		return engine.StateClosed
	}
	return r.State
}

type awu = engine.AWURow

var awuColumns = concat[awu](
	dimCol("tenant_id", func(r *awu) string { return r.TenantID }),
	strCol("workcycle_id", func(r *awu) string { return r.WorkcycleID }),
	strCol("awu_id", func(r *awu) string { return r.AWUID }),
	dimCol("agent_id", func(r *awu) string { return r.AgentID }),
	dimCol("kind", func(r *awu) string { return string(r.Kind) }),
	dimCol("tool", func(r *awu) string { return r.Tool }),
	dimCol("channel", func(r *awu) string { return string(r.Channel) }),
	dimCol("status", func(r *awu) string { return string(r.Status) }),
	boolCol("validated", func(r *awu) bool { return r.Validated }),
	boolCol("rolled_back", func(r *awu) bool { return r.RolledBack }),
	boolCol("overridden", func(r *awu) bool { return r.Overridden }),
	i64Col("attempts", func(r *awu) int64 { return r.Attempts }),
	timeCols("first_seen", func(r *awu) time.Time { return r.FirstSeen }),
	timeCols("last_seen", func(r *awu) time.Time { return r.LastSeen }),
	tokenCols(func(r *awu) *engine.TokenCounts { return &r.TokenCounts }),
	decCol("token_cost", func(r *awu) decimal.Decimal { return r.TokenCost }),
	i64Col("credits", func(r *awu) int64 { return r.Credits }),
	decCol("list_cost", func(r *awu) decimal.Decimal { return r.ListCost }),
	i64Col("unpriced_tokens", func(r *awu) int64 { return r.UnpricedTokens }),
	u64Col("version", func(r *awu) uint64 { return r.Version }),
)

type awuModel = AWUModelRow

var awuModelColumns = concat[awuModel](
	dimCol("tenant_id", func(r *awuModel) string { return r.TenantID }),
	strCol("workcycle_id", func(r *awuModel) string { return r.WorkcycleID }),
	strCol("awu_id", func(r *awuModel) string { return r.AWUID }),
	dimCol("model", func(r *awuModel) string { return r.Model }),
	dimCol("provider", func(r *awuModel) string { return r.Provider }),
	dimCol("agent_id", func(r *awuModel) string { return r.AgentID }),
	dimCol("kind", func(r *awuModel) string { return string(r.Kind) }),
	dimCol("tool", func(r *awuModel) string { return r.Tool }),
	timeCols("first_seen", func(r *awuModel) time.Time { return r.FirstSeen }),
	tokenCols(func(r *awuModel) *engine.TokenCounts { return &r.TokenCounts }),
	decCol("token_cost", func(r *awuModel) decimal.Decimal { return r.TokenCost }),
	i64Col("unpriced_tokens", func(r *awuModel) int64 { return r.UnpricedTokens }),
	u64Col("version", func(r *awuModel) uint64 { return r.Version }),
)

// ledgerEvent is an event with the time the sink wrote it.
type ledgerEvent struct {
	*event.Event
	ingestedAt time.Time
}

type ev = ledgerEvent

func eventChannel(e *ev) string {
	if e.Type == event.TypeToolInvocation {
		return e.Channel.String()
	}
	return ""
}

var eventColumns = concat[ev](
	dimCol("tenant_id", func(r *ev) string { return r.TenantID }),
	strCol("workcycle_id", func(r *ev) string { return r.WorkcycleID }),
	strCol("event_id", func(r *ev) string { return r.EventID }),
	dimCol("type", func(r *ev) string { return r.Type.String() }),
	timeCols("time", func(r *ev) time.Time { return r.Time }),
	dimCol("agent_id", func(r *ev) string { return r.AgentID }),
	strCol("conversation_id", func(r *ev) string { return r.ConversationID }),
	strCol("awu_id", func(r *ev) string { return r.AWUID }),
	i32Col("attempt", func(r *ev) int32 { return r.Attempt }),
	dimCol("model", func(r *ev) string { return r.Model }),
	dimCol("provider", func(r *ev) string { return r.Provider }),
	i64Col("input_tokens", func(r *ev) int64 { return r.InputTokens }),
	i64Col("output_tokens", func(r *ev) int64 { return r.OutputTokens }),
	i64Col("cache_read_input_tokens", func(r *ev) int64 { return r.CacheReadInputTokens }),
	i64Col("cache_creation_input_tokens", func(r *ev) int64 { return r.CacheCreationInputTokens }),
	i64Col("reasoning_tokens", func(r *ev) int64 { return r.ReasoningTokens }),
	dimCol("tool", func(r *ev) string { return r.Tool }),
	dimCol("channel", eventChannel),
	dimCol("status", func(r *ev) string { return r.Status.String() }),
	dimCol("phase", func(r *ev) string { return r.Phase.String() }),
	dimCol("outcome", func(r *ev) string { return r.Outcome }),
	dimCol("outcome_type", func(r *ev) string { return r.OutcomeType }),
	i64Col("human_millis", func(r *ev) int64 { return r.HumanMillis }),
	u8Col("csat", func(r *ev) uint8 { return r.CSAT }),
	dimCol("resolved_by", func(r *ev) string { return r.ResolvedBy.String() }),
	dimCol("reported_by", func(r *ev) string { return r.By.String() }),
	dimCol("kafka_topic", func(r *ev) string { return r.Source.Topic }),
	i32Col("kafka_partition", func(r *ev) int32 { return r.Source.Partition }),
	i64Col("kafka_offset", func(r *ev) int64 { return r.Source.Offset }),
	column[ev]{name: "ingested_at", typ: fixed("DateTime('UTC')"), values: func(rows [][]ev, s *scratch) any {
		return build(&s.times, rows, func(r *ev) time.Time { return r.ingestedAt })
	}},
)
