package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	smithydocument "github.com/aws/smithy-go/document"
)

// jsonDocument turns a JSON-compatible Go value (the tool's schema) into
// the Smithy document the SDK sends, refusing anything but a JSON object,
// which is all Bedrock takes as a schema. It goes through encoding/json, so the
// value means to Bedrock what it would mean to any JSON API (json tags,
// json.RawMessage and json.Number included), rather than what the SDK's
// reflection-based document encoder makes of it.
func jsonDocument(v any) (document.Interface, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode as JSON: %w", err)
	}
	if !isObject(raw) {
		return nil, errors.New("not a JSON object")
	}
	return rawDocument(raw)
}

// rawDocument turns JSON text into a Smithy document. Numbers stay exact:
// they are decoded as json.Number and handed to the SDK as
// document.Number, which it writes verbatim, where a float64 would round
// large integers and a json.Number would be written as a string.
func rawDocument(raw []byte) (document.Interface, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode JSON: data after the value")
	}
	return document.NewLazyDocument(exactNumbers(v)), nil
}

// exactNumbers replaces, in place, the json.Number values of v (as
// decoded with UseNumber) by document.Number.
func exactNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		return smithydocument.Number(t)
	case map[string]any:
		for k, e := range t {
			t[k] = exactNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = exactNumbers(e)
		}
	}
	return v
}

// documentJSON returns the JSON text of a document the SDK decoded, such
// as a tool call's input. MarshalSmithyDocument is the way to it:
// UnmarshalSmithyDocument into an `any` gives document.Number values,
// which encoding/json would then write as strings.
func documentJSON(d document.Interface) (json.RawMessage, error) {
	if d == nil {
		return nil, nil
	}
	raw, err := d.MarshalSmithyDocument()
	if err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	if !json.Valid(raw) {
		return nil, errors.New("encode document: not valid JSON")
	}
	return raw, nil
}

// isObject reports whether raw is a JSON object.
func isObject(raw []byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}
