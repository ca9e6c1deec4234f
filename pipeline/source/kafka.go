package source

import (
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.uber.org/zap"
)

// ClientOpts are the connection options, brokers, client id, TLS and SASL,
// that every Kafka client of the service starts from. Errors name the key
// of an unreadable TLS or SASL file.
func (c Config) ClientOpts() ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID(c.ClientID)}
	tc, err := c.TLS.Load("kafka.tls")
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if c.SASL.Mechanism != "" {
		m, err := c.SASL.mechanism()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// password returns the SASL password, read from the file if one is set.
func (s SASLConfig) password() (string, error) {
	if s.PasswordFile == "" {
		return s.Password, nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("kafka.sasl.password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (s SASLConfig) mechanism() (sasl.Mechanism, error) {
	pw, err := s.password()
	if err != nil {
		return nil, err
	}
	switch s.Mechanism {
	case MechanismPlain:
		return plain.Auth{User: s.Username, Pass: pw}.AsMechanism(), nil
	case MechanismSCRAMSHA256:
		return scram.Auth{User: s.Username, Pass: pw}.AsSha256Mechanism(), nil
	case MechanismSCRAMSHA512:
		return scram.Auth{User: s.Username, Pass: pw}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: unsupported %q", s.Mechanism)
}

// KgoLogger routes a franz-go client's logs to log, as the source's own.
func KgoLogger(log *zap.Logger) kgo.Logger { return kgoLogger{log.Sugar()} }

// kgoLogger routes franz-go's logs to zap; franz-go's info is debug here,
// because the service logs what matters (assignments, commits) itself.
type kgoLogger struct{ log *zap.SugaredLogger }

func (l kgoLogger) Level() kgo.LogLevel {
	if l.log.Desugar().Core().Enabled(zap.DebugLevel) {
		return kgo.LogLevelDebug
	}
	return kgo.LogLevelWarn
}

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		l.log.Errorw(msg, keyvals...)
	case kgo.LogLevelWarn:
		l.log.Warnw(msg, keyvals...)
	default:
		l.log.Debugw(msg, keyvals...)
	}
}
