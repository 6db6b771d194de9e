package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/infra/harness"
)

// templateFacts are what the bill reads from template.yaml rather than
// assuming: the memory each function is billed at, the batch size the
// dispatch queue's event source hands the dispatch function, the format
// and level of the functions' logs (what CloudWatch ingests), whether
// X-Ray tracing is on, and the HTTP API's access log line.
type templateFacts struct {
	// MemoryMB is each function's MemorySize by logical id
	// ("DispatchFunction"), the Globals' where a function sets none.
	MemoryMB map[string]int
	// DispatchBatchSize is DispatchFunctionQueueSource's BatchSize.
	DispatchBatchSize int
	// SesEventsBatchSize is CallbacksFunctionSesEventsSource's BatchSize:
	// SES's events an invocation of the callbacks function takes.
	SesEventsBatchSize int
	// LogFormat is the functions' LoggingConfig LogFormat (JSON or Text).
	LogFormat string
	// SystemLogLevel is the functions' LoggingConfig SystemLogLevel (INFO,
	// Lambda's default, when unset): at WARN and above Lambda writes no
	// platform.start and platform.report lines.
	SystemLogLevel string
	// Tracing is the functions' Tracing (Active or PassThrough).
	Tracing string
	// AccessLogFormat is the HTTP API's access log line, with its
	// $context variables.
	AccessLogFormat string
}

// readTemplateFacts reads template.yaml at the module's root.
func readTemplateFacts() (templateFacts, error) {
	root, err := harness.ModuleRoot()
	if err != nil {
		return templateFacts{}, err
	}
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return templateFacts{}, err
	}
	return parseTemplateFacts(string(b))
}

// parseTemplateFacts reads the facts out of a template's text.
func parseTemplateFacts(text string) (templateFacts, error) {
	values := yamlScalars(text)
	f := templateFacts{MemoryMB: map[string]int{}, LogFormat: values["Globals.Function.LoggingConfig.LogFormat"],
		Tracing: values["Globals.Function.Tracing"], AccessLogFormat: values["Resources.HttpApi.Properties.AccessLogSettings.Format"],
		SystemLogLevel: values["Globals.Function.LoggingConfig.SystemLogLevel"]}
	if f.SystemLogLevel == "" {
		f.SystemLogLevel = "INFO"
	}
	def := 128 // Lambda's own default
	if v, ok := values["Globals.Function.MemorySize"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return f, fmt.Errorf("template: Globals.Function.MemorySize %q: %w", v, err)
		}
		def = n
	}
	for path, v := range values {
		parts := strings.Split(path, ".")
		if len(parts) != 3 || parts[0] != "Resources" || parts[2] != "Type" || v != "AWS::Serverless::Function" {
			continue
		}
		mem := def
		if s, ok := values["Resources."+parts[1]+".Properties.MemorySize"]; ok {
			n, err := strconv.Atoi(s)
			if err != nil {
				return f, fmt.Errorf("template: %s MemorySize %q: %w", parts[1], s, err)
			}
			mem = n
		}
		f.MemoryMB[parts[1]] = mem
	}
	if s, ok := values["Resources.DispatchFunctionQueueSource.Properties.BatchSize"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			return f, fmt.Errorf("template: DispatchFunctionQueueSource BatchSize %q: %w", s, err)
		}
		f.DispatchBatchSize = n
	}
	if s, ok := values["Resources.CallbacksFunctionSesEventsSource.Properties.BatchSize"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			return f, fmt.Errorf("template: CallbacksFunctionSesEventsSource BatchSize %q: %w", s, err)
		}
		f.SesEventsBatchSize = n
	}
	for _, fn := range []string{"ApiFunction", "AuthorizerFunction", "DispatchFunction", "CallbacksFunction"} {
		if f.MemoryMB[fn] == 0 {
			return f, fmt.Errorf("template: no function %s", fn)
		}
	}
	if f.DispatchBatchSize == 0 {
		return f, fmt.Errorf("template: no BatchSize on DispatchFunctionQueueSource")
	}
	if f.SesEventsBatchSize == 0 {
		return f, fmt.Errorf("template: no BatchSize on CallbacksFunctionSesEventsSource")
	}
	return f, nil
}

// yamlScalars reads the block-style YAML of a CloudFormation template into
// the scalar values of its mappings, keyed by their dotted path
// ("Resources.ApiFunction.Properties.MemorySize"). Sequences are read as a
// key "-" (every item the same path: the bill reads nothing inside one),
// block scalars (">-", "|") are folded or kept line by line, comments and
// quotes are dropped, and tags (!Ref, !If) stay in the value.
func yamlScalars(text string) map[string]string {
	type level struct {
		indent int
		key    string
	}
	out := map[string]string{}
	var stack []level
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t\r")
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(trimmed)
		if strings.HasPrefix(trimmed, "- ") || trimmed == "-" {
			for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
				stack = stack[:len(stack)-1]
			}
			stack = append(stack, level{indent, "-"})
			trimmed = strings.TrimSpace(strings.TrimPrefix(trimmed, "-"))
			indent += 2
			if trimmed == "" {
				continue
			}
		}
		key, value, ok := strings.Cut(trimmed, ":")
		if !ok || strings.ContainsAny(key, "{[\"'") && !strings.HasPrefix(key, "\"") {
			continue // a flow collection or a line of text
		}
		key = strings.Trim(key, "\"'")
		value = strings.TrimSpace(value)
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, level{indent, key})
		path := make([]string, len(stack))
		for j, l := range stack {
			path[j] = l.key
		}
		if value == "" {
			continue
		}
		if value[0] == '>' || value[0] == '|' {
			var block []string
			for i+1 < len(lines) {
				next := strings.TrimRight(lines[i+1], " \t\r")
				nt := strings.TrimLeft(next, " ")
				if nt != "" && len(next)-len(nt) <= indent {
					break
				}
				block = append(block, nt)
				i++
			}
			sep := " "
			if value[0] == '|' {
				sep = "\n"
			}
			value = strings.TrimSpace(strings.Join(block, sep))
		} else {
			if j := strings.Index(value, " #"); j >= 0 {
				value = strings.TrimSpace(value[:j])
			}
			value = strings.Trim(value, "\"'")
		}
		out[strings.Join(path, ".")] = value
	}
	return out
}

// platformLines are Lambda's own lines of one invocation as the template
// configures them: none when the system log level is above INFO (JSON
// format only: with Text, Lambda has no log levels and writes them all).
func (f templateFacts) platformLines(at time.Time, seq int, d time.Duration, memoryMB, usedMB int) []string {
	if f.LogFormat == "JSON" && f.SystemLogLevel != "INFO" && f.SystemLogLevel != "DEBUG" && f.SystemLogLevel != "TRACE" {
		return nil
	}
	return lambdaPlatformLines(f.LogFormat, f.Tracing == "Active", at, seq, d, memoryMB, usedMB)
}
