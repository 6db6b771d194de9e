// Package config reads Herald's settings from the environment, the same way
// for the local server and the Lambda functions, and builds the logger.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config is every setting Herald reads. The README lists them all.
type Config struct {
	// Local mode.
	Addr    string // HERALD_ADDR, default 127.0.0.1:8080
	DataDir string // HERALD_DATA_DIR, default ./.herald
	APIKey  string // HERALD_API_KEY: the admin key; generated when empty
	Workers int    // HERALD_WORKERS: dispatch workers, default 4
	Fsync   bool   // HERALD_FSYNC=1: fsync every commit (survives power loss, slower)

	// AWS mode.
	Table          string // HERALD_TABLE: the DynamoDB table
	DispatchQueue  string // HERALD_DISPATCH_QUEUE_URL: the SQS dispatch queue
	Stage          string // HERALD_STAGE: the deployment stage, on every log line
	SendConcurrent int    // HERALD_SEND_CONCURRENCY: recipients sent at once per batch, default 32

	// Both.
	LogLevel       slog.Level    // HERALD_LOG_LEVEL: debug, info, warn, error
	DefaultRegion  string        // HERALD_DEFAULT_REGION: region for phones without +, e.g. ES
	MaxBodyBytes   int64         // HERALD_MAX_BODY_BYTES, default 5 MiB
	VisibilityTime time.Duration // HERALD_VISIBILITY_TIMEOUT (local queue), default 30s
	MaxReceives    int           // HERALD_MAX_RECEIVES (local queue) before dead letter, default 5
}

// Load reads the configuration from getenv (os.Getenv in mains).
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Addr:           or(getenv("HERALD_ADDR"), "127.0.0.1:8080"),
		DataDir:        or(getenv("HERALD_DATA_DIR"), ".herald"),
		APIKey:         strings.TrimSpace(getenv("HERALD_API_KEY")),
		Table:          getenv("HERALD_TABLE"),
		DispatchQueue:  getenv("HERALD_DISPATCH_QUEUE_URL"),
		Stage:          getenv("HERALD_STAGE"),
		DefaultRegion:  strings.ToUpper(getenv("HERALD_DEFAULT_REGION")),
		Fsync:          getenv("HERALD_FSYNC") == "1" || strings.EqualFold(getenv("HERALD_FSYNC"), "true"),
		VisibilityTime: 30 * time.Second,
	}
	var err error
	if c.Workers, err = intVar(getenv, "HERALD_WORKERS", 4, 1, 256); err != nil {
		return c, err
	}
	if c.SendConcurrent, err = intVar(getenv, "HERALD_SEND_CONCURRENCY", 32, 1, 1024); err != nil {
		return c, err
	}
	if c.MaxReceives, err = intVar(getenv, "HERALD_MAX_RECEIVES", 5, 1, 1000); err != nil {
		return c, err
	}
	mb, err := intVar(getenv, "HERALD_MAX_BODY_BYTES", 5<<20, 1024, 6<<20)
	if err != nil {
		return c, err
	}
	c.MaxBodyBytes = int64(mb)
	if v := getenv("HERALD_VISIBILITY_TIMEOUT"); v != "" {
		if c.VisibilityTime, err = time.ParseDuration(v); err != nil || c.VisibilityTime < time.Second {
			return c, fmt.Errorf("HERALD_VISIBILITY_TIMEOUT=%q: want a duration of at least 1s, such as 30s", v)
		}
	}
	switch strings.ToLower(getenv("HERALD_LOG_LEVEL")) {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, fmt.Errorf("HERALD_LOG_LEVEL=%q: want debug, info, warn or error", getenv("HERALD_LOG_LEVEL"))
	}
	if c.DefaultRegion != "" && len(c.DefaultRegion) != 2 {
		return c, fmt.Errorf("HERALD_DEFAULT_REGION=%q: want a two-letter region such as ES", c.DefaultRegion)
	}
	return c, nil
}

// Logger returns the JSON logger every Herald process uses.
func (c Config) Logger(w io.Writer) *slog.Logger {
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: c.LogLevel}))
	if c.Stage != "" {
		log = log.With("stage", c.Stage)
	}
	return log
}

// RequireAWS checks the settings the Lambda functions need.
func (c Config) RequireAWS(needQueue bool) error {
	if c.Table == "" {
		return fmt.Errorf("HERALD_TABLE is not set")
	}
	if needQueue && c.DispatchQueue == "" {
		return fmt.Errorf("HERALD_DISPATCH_QUEUE_URL is not set")
	}
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func intVar(getenv func(string) string, name string, def, lo, hi int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q: want an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}
