// Package events holds the JSON Schema (2020-12) files of the v1 event
// contract, embedded so that tools can validate events without the source
// tree. The schemas mirror the rules of the native JSON decoder in
// pipeline/decode; a test keeps the two in agreement on every example in
// examples/. Rules that involve two fields or the clock (cache tokens within
// input tokens, reasoning within output tokens, time bounds) and byte-level
// rules (UTF-8, record size) are enforced by the decoder only.
package events

import "embed"

// FS holds the schema files, named as in this directory.
//
//go:embed *.schema.json
var FS embed.FS

// BaseURL is the base of every schema's $id; a schema's id is BaseURL + its
// file name, so relative $refs resolve between the files of FS.
const BaseURL = "https://github.com/awumeter/awumeter/schemas/events/"

// Event is the file name of the schema any v1 event validates against.
const Event = "event.v1.schema.json"
