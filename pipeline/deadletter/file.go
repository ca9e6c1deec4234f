package deadletter

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Line is one line of the offline dead-letter file. Record is the original
// value as text; when the value is not valid UTF-8, Record holds it with
// invalid bytes replaced by U+FFFD and RecordBase64 holds the exact bytes.
// The key is written the same way when the record has one.
type Line struct {
	Reason       string `json:"reason"`
	Detail       string `json:"detail"`
	Rejections   int    `json:"rejections,omitempty"`
	Topic        string `json:"topic,omitempty"`
	Partition    *int32 `json:"partition,omitempty"`
	Offset       *int64 `json:"offset,omitempty"`
	Key          string `json:"key,omitempty"`
	KeyBase64    string `json:"key_base64,omitempty"`
	Record       string `json:"record"`
	RecordBase64 string `json:"record_base64,omitempty"`
}

// NewLine renders a letter as a file line.
func NewLine(l *Letter) Line {
	line := Line{Reason: string(l.Reason), Detail: l.Detail}
	if l.Rejections > 1 {
		line.Rejections = l.Rejections
	}
	if l.Topic != "" {
		p, o := l.Partition, l.Offset
		line.Topic, line.Partition, line.Offset = l.Topic, &p, &o
	}
	line.Record, line.RecordBase64 = text(l.Value)
	line.Key, line.KeyBase64 = text(l.Key)
	return line
}

// Bytes returns the original record value: RecordBase64 decoded when set,
// Record otherwise.
func (ln *Line) Bytes() ([]byte, error) {
	if ln.RecordBase64 != "" {
		return base64.StdEncoding.DecodeString(ln.RecordBase64)
	}
	return []byte(ln.Record), nil
}

func text(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), base64.StdEncoding.EncodeToString(b)
}

// FileWriter writes letters as NDJSON, one Line per line. It is safe for
// concurrent use; call Flush before closing the underlying writer.
type FileWriter struct {
	mu  sync.Mutex
	bw  *bufio.Writer
	enc *json.Encoder
}

// NewFileWriter returns a FileWriter writing to w.
func NewFileWriter(w io.Writer) *FileWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // keep records readable: <, > and & as they are
	return &FileWriter{bw: bw, enc: enc}
}

// Write appends one line for l.
func (fw *FileWriter) Write(l *Letter) error {
	line := NewLine(l)
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if err := fw.enc.Encode(&line); err != nil {
		return fmt.Errorf("cannot write dead letter: %w", err)
	}
	return nil
}

// Flush writes buffered lines to the underlying writer.
func (fw *FileWriter) Flush() error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if err := fw.bw.Flush(); err != nil {
		return fmt.Errorf("cannot flush dead letters: %w", err)
	}
	return nil
}
