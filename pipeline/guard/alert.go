package guard

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Namespace is the UUID namespace of alert ids, generated once at random
// for awumeter guards. It must never change: every alert id depends on it.
const Namespace = "ec0c3122-288d-442c-b21c-20e01be7b767"

var namespace = uuid.MustParse(Namespace)

// Content types of Encode's values, for the record's content-type header.
const (
	ContentTypeJSON        = "application/json"
	ContentTypeCloudEvents = "application/cloudevents+json"
)

// CloudEventType is the CloudEvents type attribute of alerts.
const CloudEventType = "dev.awumeter.alert.v1"

// Alert is a rule crossed for the first time by a workcycle, an AWU or a
// tenant window.
type Alert struct {
	// ID is stable: the same rule crossed by the same subject always has
	// the same ID (see AlertID), so consumers deduplicate by it.
	ID string
	// Rule is the rule's name.
	Rule string
	// On is the rule's on: workcycle, awu, tenant_hour or tenant_day.
	On string
	// Metric is the rule's metric.
	Metric string
	// Threshold is the rule's above.
	Threshold decimal.Decimal
	// Value is the value that crossed it: the first one this Evaluator saw
	// above Threshold.
	Value decimal.Decimal

	// TenantID, AgentID, WorkcycleID and AWUID name the subject as far as
	// they apply: a workcycle alert has no AWUID, a tenant window alert
	// only a TenantID. "" otherwise.
	TenantID, AgentID, WorkcycleID, AWUID string

	// WindowStart is the start of the UTC hour (tenant_hour) or day
	// (tenant_day) crossed; zero for workcycle and awu.
	WindowStart time.Time
	// EventTime is the event time of what crossed: the workcycle row's
	// EndedAt, the AWU row's LastSeen, or WindowStart.
	EventTime time.Time
}

// AlertID returns the id of the alert of rule, on a subject: an RFC 9562
// version 5 (SHA-1, name-based) UUID in the namespace Namespace, over the
// name
//
//	rule NUL on NUL tenantID NUL workcycleID NUL awuID NUL windowStart
//
// where NUL is the byte 0, absent fields are empty, and windowStart is the
// window's start in Unix seconds in decimal ASCII, or "0" when windowStart
// is the zero time (workcycle and awu rules). The same inputs give the same
// id on any machine, forever; a renamed rule gives new ids.
func AlertID(rule, on, tenantID, workcycleID, awuID string, windowStart time.Time) string {
	var sec int64
	if !windowStart.IsZero() {
		sec = windowStart.Unix()
	}
	return uuid.NewSHA1(namespace, appendIDName(nil, rule, on, tenantID, workcycleID, awuID, sec)).String()
}

// appendIDName appends AlertID's name to b.
func appendIDName(b []byte, rule, on, tenantID, workcycleID, awuID string, windowSec int64) []byte {
	b = append(b, rule...)
	b = append(b, 0)
	b = append(b, on...)
	b = append(b, 0)
	b = append(b, tenantID...)
	b = append(b, 0)
	b = append(b, workcycleID...)
	b = append(b, 0)
	b = append(b, awuID...)
	b = append(b, 0)
	return strconv.AppendInt(b, windowSec, 10)
}

// idOf is AlertID's UUID without allocating: buf holds the namespace
// followed by the name, and is returned for reuse.
func idOf(buf []byte, rule, on, tenantID, workcycleID, awuID string, windowSec int64) (uuid.UUID, []byte) {
	buf = append(buf[:0], namespace[:]...)
	buf = appendIDName(buf, rule, on, tenantID, workcycleID, awuID, windowSec)
	sum := sha1.Sum(buf)
	var id uuid.UUID
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x50 // version 5
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id, buf
}

// Key returns the Kafka record key of the alert: its ID, so that a
// compacted topic keeps one record per alert.
func (a *Alert) Key() []byte { return []byte(a.ID) }

// alertJSON is the JSON object of an alert. Decimals are strings, so that
// they stay exact.
type alertJSON struct {
	ID          string `json:"id"`
	Rule        string `json:"rule"`
	On          string `json:"on"`
	Metric      string `json:"metric"`
	Threshold   string `json:"threshold"`
	Value       string `json:"value"`
	TenantID    string `json:"tenant_id,omitempty"`
	AgentID     string `json:"agent_id,omitempty"`
	WorkcycleID string `json:"workcycle_id,omitempty"`
	AWUID       string `json:"awu_id,omitempty"`
	WindowStart string `json:"window_start,omitempty"`
	EventTime   string `json:"event_time"`
}

// cloudEvent is a CloudEvents 1.0 event in structured mode.
type cloudEvent struct {
	SpecVersion     string    `json:"specversion"`
	Type            string    `json:"type"`
	Source          string    `json:"source"`
	ID              string    `json:"id"`
	Time            string    `json:"time"`
	Subject         string    `json:"subject"`
	DataContentType string    `json:"datacontenttype"`
	Data            alertJSON `json:"data"`
}

// Time layouts: RFC 3339 in UTC, event times with milliseconds.
const (
	windowLayout = "2006-01-02T15:04:05Z07:00"
	eventLayout  = "2006-01-02T15:04:05.000Z07:00"
)

func (a *Alert) object() alertJSON {
	o := alertJSON{
		ID:          a.ID,
		Rule:        a.Rule,
		On:          a.On,
		Metric:      a.Metric,
		Threshold:   a.Threshold.String(),
		Value:       a.Value.String(),
		TenantID:    a.TenantID,
		AgentID:     a.AgentID,
		WorkcycleID: a.WorkcycleID,
		AWUID:       a.AWUID,
		EventTime:   a.EventTime.UTC().Format(eventLayout),
	}
	if !a.WindowStart.IsZero() {
		o.WindowStart = a.WindowStart.UTC().Format(windowLayout)
	}
	return o
}

// subject is the CloudEvents subject: tenant/workcycle, tenant/workcycle/awu
// or tenant/window_start.
func (a *Alert) subject() string {
	switch {
	case !a.WindowStart.IsZero():
		return a.TenantID + "/" + a.WindowStart.UTC().Format(windowLayout)
	case a.AWUID != "":
		return a.TenantID + "/" + a.WorkcycleID + "/" + a.AWUID
	default:
		return a.TenantID + "/" + a.WorkcycleID
	}
}

// Encode returns the Kafka record value of the alert in format ("json" or
// "cloudevents") and its content type.
//
// json is one object: id, rule, on, metric, threshold and value (decimal
// strings, exact), tenant_id, agent_id, workcycle_id and awu_id (left out
// when empty), window_start (RFC 3339 UTC, left out for workcycle and awu
// alerts) and event_time (RFC 3339 UTC with milliseconds).
//
// cloudevents is a CloudEvents 1.0 event in structured mode: type
// dev.awumeter.alert.v1, source /awumeter/guards/<rule>, id the alert's
// ID, time its event_time, subject <tenant_id>/<workcycle_id>,
// <tenant_id>/<workcycle_id>/<awu_id> or <tenant_id>/<window_start>, and
// the json object as data.
//
// Ids come from producers and may hold any bytes: invalid UTF-8 is
// replaced by U+FFFD, so the value is always valid JSON.
func (a *Alert) Encode(format string) (value []byte, contentType string, err error) {
	switch format {
	case FormatJSON:
		value, err = json.Marshal(a.object())
		return value, ContentTypeJSON, err
	case FormatCloudEvents:
		value, err = json.Marshal(cloudEvent{
			SpecVersion:     "1.0",
			Type:            CloudEventType,
			Source:          "/awumeter/guards/" + a.Rule,
			ID:              a.ID,
			Time:            a.EventTime.UTC().Format(eventLayout),
			Subject:         a.subject(),
			DataContentType: ContentTypeJSON,
			Data:            a.object(),
		})
		return value, ContentTypeCloudEvents, err
	}
	return nil, "", fmt.Errorf("guard: unknown alert format %q (one of: %s, %s)", format, FormatJSON, FormatCloudEvents)
}
