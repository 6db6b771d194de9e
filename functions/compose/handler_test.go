package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/notify"
)

const fakeModelID = "fake-model-1"

// fakeModel answers every prompt with answer.
type fakeModel struct {
	answer compose.Answer
	calls  int
}

func (m *fakeModel) ID() string { return fakeModelID }

func (m *fakeModel) Generate(context.Context, compose.Prompt) (compose.Answer, error) {
	m.calls++
	if m.calls > 1 {
		return compose.Answer{}, errors.New("fake model: one answer scripted")
	}
	return m.answer, nil
}

// toolAnswer is a call of the answer tool in language lang with variants
// of a title and a body, spending 120 input and 30 output tokens.
func toolAnswer(t *testing.T, lang string, variants ...compose.Variant) compose.Answer {
	t.Helper()
	type tv struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	args := struct {
		Language string `json:"language"`
		Variants []tv   `json:"variants"`
	}{Language: lang}
	for _, v := range variants {
		args.Variants = append(args.Variants, tv{Title: v.Title, Body: v.Body})
	}
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	return compose.Answer{Input: raw, ToolUseID: "call_1", StopReason: "tool_use", Usage: compose.Usage{InputTokens: 120, OutputTokens: 30}}
}

func invokeSample(t *testing.T, h lambda.Handler, file string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	payload, err := os.ReadFile("../../events/" + file)
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestComposeSample runs the compose function's sample event through the
// handler of a server limited to the compose routes, as main wires it: the
// authorizer's principal is the workspace, and the answer is the variants.
func TestComposeSample(t *testing.T) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ws := notify.Workspace{ID: "ws_example", Name: "ws_example", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := store.CreateWorkspace(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
	m := &fakeModel{answer: toolAnswer(t, "es",
		compose.Variant{Title: "{{name}}, mira tu consumo", Body: "Descubre a qué horas gastas más."},
		compose.Variant{Title: "Tu consumo, hora a hora", Body: "{{name}}, ya puedes verlo en la app."},
		compose.Variant{Title: "Nuevo en la app", Body: "{{name}}, consulta tu consumo por horas."})}
	clock := func() time.Time { return time.Date(2026, 11, 20, 9, 15, 30, 0, time.UTC) }
	c := compose.New(m, store, compose.Config{}, clock, nil)
	h := lambda.NewHandler(newHandler(httpapi.New(httpapi.Services{Store: store, Compose: c}, httpapi.Options{Routes: httpapi.ComposeRoutes})).Serve)
	res := invokeSample(t, h, "compose-generate.json")
	if res.StatusCode != 200 {
		t.Fatalf("compose = %d %s", res.StatusCode, res.Body)
	}
	var out compose.Result
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil || len(out.Variants) != 3 || out.Model != fakeModelID {
		t.Errorf("compose answer = %s (%v), want 3 variants of %s", res.Body, err, fakeModelID)
	}
	usage, err := store.ListComposeUsage(context.Background(), "ws_example", "2000-01-01", "2100-01-01")
	if err != nil || len(usage) != 1 || usage[0].InputTokens != 120 {
		t.Errorf("usage of ws_example = %+v, %v; want the call recorded for the authorizer's workspace", usage, err)
	}
	// The api function's routes are not served here.
	res = invokeSample(t, h, "api-send-notification.json")
	if res.StatusCode != 404 {
		t.Errorf("send through the compose function = %d, want 404", res.StatusCode)
	}
}
