package logging

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"
)

// Formats a log.format may name.
const (
	FormatAuto    = "auto"    // console on a terminal, JSON otherwise
	FormatJSON    = "json"    // one JSON object per line
	FormatConsole = "console" // human-readable, colored on a terminal
)

// Config is what a user writes under the log key.
type Config struct {
	// Level is the lowest level written: debug, info, warn or error,
	// overriding the default info.
	Level string `yaml:"level"`
	// Format is auto, json or console, overriding the default auto: console
	// when stderr is a terminal, JSON otherwise.
	Format string `yaml:"format"`
}

// DefaultConfig returns the configuration used when the log key sets nothing.
func DefaultConfig() Config { return Config{Level: "info", Format: FormatAuto} }

// Validate reports every invalid value, naming its YAML key.
func (c Config) Validate() error {
	var errs []error
	if _, err := zapcore.ParseLevel(c.Level); err != nil || c.Level == "" || strings.ToLower(c.Level) != c.Level {
		errs = append(errs, fmt.Errorf("log.level: must be one of debug, info, warn, error, got %q", c.Level))
	}
	switch c.Format {
	case FormatAuto, FormatJSON, FormatConsole:
	default:
		errs = append(errs, fmt.Errorf("log.format: must be one of auto, json, console, got %q", c.Format))
	}
	return errors.Join(errs...)
}

// New returns a logger writing to stderr.
func New(c Config) (*zap.Logger, error) {
	return NewTo(c, os.Stderr, term.IsTerminal(int(os.Stderr.Fd())))
}

// NewTo returns a logger writing to w; terminal says whether w is a terminal,
// which decides the auto format and colors.
func NewTo(c Config, w io.Writer, terminal bool) (*zap.Logger, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	level, _ := zapcore.ParseLevel(c.Level)
	format := c.Format
	if format == FormatAuto {
		format = FormatJSON
		if terminal {
			format = FormatConsole
		}
	}
	var enc zapcore.Encoder
	if format == FormatJSON {
		ec := zap.NewProductionEncoderConfig()
		ec.TimeKey = "time"
		ec.EncodeTime = zapcore.RFC3339NanoTimeEncoder
		ec.EncodeDuration = zapcore.StringDurationEncoder
		enc = zapcore.NewJSONEncoder(ec)
	} else {
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		ec.EncodeDuration = zapcore.StringDurationEncoder
		if terminal {
			ec.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		enc = zapcore.NewConsoleEncoder(ec)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core, zap.ErrorOutput(zapcore.Lock(zapcore.AddSync(w)))), nil
}
