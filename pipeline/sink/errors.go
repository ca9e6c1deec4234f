package sink

import (
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ErrBufferFailed is returned by Buffer.Add and passed to acks after an
// earlier batch failed: later transactions must not be acknowledged past an
// unwritten one.
var ErrBufferFailed = errors.New("an earlier batch failed")

// ErrBufferClosed is returned by Buffer.Add after Close.
var ErrBufferClosed = errors.New("buffer is closed")

// PermanentError is an insert failure that retrying cannot fix: the schema
// or the data is wrong. The rows were not written.
type PermanentError struct {
	Table string
	Err   error
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("cannot insert %s batch (permanent): %v", e.Table, e.Err)
}
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// permanentCodes are server error codes that mean the insert itself is
// wrong, so the same insert would fail again.
var permanentCodes = map[int32]bool{
	6:   true, // CANNOT_PARSE_TEXT
	16:  true, // NO_SUCH_COLUMN_IN_TABLE
	20:  true, // NUMBER_OF_COLUMNS_DOESNT_MATCH
	27:  true, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	47:  true, // UNKNOWN_IDENTIFIER
	53:  true, // TYPE_MISMATCH
	60:  true, // UNKNOWN_TABLE
	62:  true, // SYNTAX_ERROR
	69:  true, // ARGUMENT_OUT_OF_BOUND
	70:  true, // CANNOT_CONVERT_TYPE
	81:  true, // UNKNOWN_DATABASE
	117: true, // INCORRECT_DATA
	192: true, // UNKNOWN_USER
	193: true, // WRONG_PASSWORD
	497: true, // ACCESS_DENIED
	516: true, // AUTHENTICATION_FAILED
}

// permanent classifies a server error; anything else (network errors,
// timeouts, too many parts, memory limits, a server restarting) is retried.
func permanent(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && permanentCodes[ex.Code]
}
