package engine

import (
	"time"

	"github.com/shopspring/decimal"
)

// Row names and JSON field names are a contract shared with the ClickHouse
// schema, the statements and users' SQL. Money is exact: decimal.Decimal,
// which marshals to a JSON string.

// WorkcycleRow is one version of a workcycle rollup: every event of
// (TenantID, WorkcycleID).
type WorkcycleRow struct {
	TenantID       string `json:"tenant_id"`
	WorkcycleID    string `json:"workcycle_id"`
	AgentID        string `json:"agent_id"`
	ConversationID string `json:"conversation_id"`
	Outcome        string `json:"outcome"`
	OutcomeType    string `json:"outcome_type"`
	// HumanMillis (ms), CSAT (1–5; 0: none) and ResolvedBy ("agent",
	// "human"; "": none) are those of the completed event that states
	// the outcome.
	HumanMillis int64     `json:"human_millis"`
	CSAT        uint8     `json:"csat"`
	ResolvedBy  string    `json:"resolved_by"`
	StartedAt   time.Time `json:"started_at"`
	EndedAt     time.Time `json:"ended_at"`

	AWUs           int64 `json:"awus"`
	AWUsSucceeded  int64 `json:"awus_succeeded"`
	AWUsFailed     int64 `json:"awus_failed"`
	AWUsValidated  int64 `json:"awus_validated"`
	AWUsRolledBack int64 `json:"awus_rolled_back"`
	// AWUsOverridden counts the AWUs a human rolled back (AWURow.Overridden).
	AWUsOverridden int64 `json:"awus_overridden"`
	Actions        int64 `json:"actions"`
	VoiceActions   int64 `json:"voice_actions"`
	Attempts       int64 `json:"attempts"`
	Retries        int64 `json:"retries"`

	TokenCounts

	TokenCost      decimal.Decimal `json:"token_cost"`
	Credits        int64           `json:"credits"`
	ListCost       decimal.Decimal `json:"list_cost"`
	UnpricedTokens int64           `json:"unpriced_tokens"`

	// State is StateOpen for a provisional row of a workcycle no closing
	// rule has closed yet (EmitOpen), else StateClosed. Of two rows with
	// one version, the closed one is the later.
	State string `json:"state"`

	// Version grows with every emission of the same workcycle and is a pure
	// function of the set of distinct events folded in, so a replay yields
	// the same version and ReplacingMergeTree keeps one copy.
	Version uint64 `json:"version"`
}

// The values of WorkcycleRow.State.
const (
	StateOpen   = "open"
	StateClosed = "closed"
)

// StateRow records that a workcycle was emitted open (provisionally) or
// closed, for the partition's next owner: the service stores these rows and
// restores, on assignment, every workcycle whose latest state row is open
// (Engine.Restore), since the committed offset may have moved past its
// events. Open rows are written when an engine first emits a workcycle
// provisionally, closed rows when it closes a workcycle that has, or may
// have, an open one.
type StateRow struct {
	TenantID    string
	WorkcycleID string
	Open        bool
	// Version is the workcycle's version when the row was written. A
	// closed row supersedes open rows of the same or a lower version.
	Version uint64
}

// AWURow is one version of an agentic work unit: every event of
// (TenantID, WorkcycleID, AWUID).
type AWURow struct {
	TenantID    string     `json:"tenant_id"`
	WorkcycleID string     `json:"workcycle_id"`
	AWUID       string     `json:"awu_id"`
	AgentID     string     `json:"agent_id"`
	Kind        AWUKind    `json:"kind"`
	Tool        string     `json:"tool"` // empty for prompt AWUs
	Channel     AWUChannel `json:"channel"`
	Status      AWUStatus  `json:"status"`
	Validated   bool       `json:"validated"`
	RolledBack  bool       `json:"rolled_back"`
	// Overridden: a human rolled it back (a rolled_back report by human).
	Overridden bool  `json:"overridden"`
	Attempts   int64 `json:"attempts"`

	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// EventDays are the UTC days of the AWU's events, as days since
	// 1970-01-01, sorted, when they are more than one; nil when every event
	// is on FirstSeen's day. They are the days whose rollups this row can
	// change: a late event that moves FirstSeen to an earlier day takes
	// the AWU out of a day where it has an event.
	EventDays []int32 `json:"-"`

	TokenCounts

	TokenCost      decimal.Decimal `json:"token_cost"`
	Credits        int64           `json:"credits"`
	ListCost       decimal.Decimal `json:"list_cost"`
	UnpricedTokens int64           `json:"unpriced_tokens"`

	// Version is 2^32 + the number of distinct events of the AWU: a pure
	// function of the AWU's own events, which are all its row depends on,
	// so an AWU row is emitted only when the AWU changed. The 2^32 keeps
	// it above the workcycle-wide versions earlier releases gave AWU rows.
	Version uint64 `json:"version"`
}

// TokenCounts are the five token counters of the contract. Cache tokens are
// parts of InputTokens and reasoning tokens are part of OutputTokens.
type TokenCounts struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	ReasoningTokens          int64 `json:"reasoning_tokens"`
}

// AWUModelRow is the token use and cost of one AWU for one model: one row
// per version of (TenantID, WorkcycleID, AWUID, Model), emitted with every
// AWU row, at the AWU row's version. An AWU's rows sum exactly to its AWURow's
// token counts, TokenCost and UnpricedTokens. Model is the price book's
// model id when the model is priced, otherwise the model name as sent.
type AWUModelRow struct {
	TenantID    string    `json:"tenant_id"`
	WorkcycleID string    `json:"workcycle_id"`
	AWUID       string    `json:"awu_id"`
	Model       string    `json:"model"`
	Provider    string    `json:"provider"`
	AgentID     string    `json:"agent_id"`
	Kind        AWUKind   `json:"kind"`
	Tool        string    `json:"tool"`
	FirstSeen   time.Time `json:"first_seen"` // the AWU's first event

	TokenCounts

	TokenCost      decimal.Decimal `json:"token_cost"`
	UnpricedTokens int64           `json:"unpriced_tokens"`

	Version uint64 `json:"version"`
}
