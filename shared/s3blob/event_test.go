package s3blob

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

func TestParseEventKey(t *testing.T) {
	tests := []struct {
		key     string
		want    string
		wantErr bool
	}{
		{key: "uploads/ws_1/contacts.csv", want: "uploads/ws_1/contacts.csv"},
		{key: "red+flower.jpg", want: "red flower.jpg"},
		{key: "a%2Bb", want: "a+b"},
		{key: "a%20b", want: "a b"},
		{key: "dir%2Fname", want: "dir/name"},
		{key: "caf%C3%A9", want: "café"},
		{key: "x%3Dy%26z", want: "x=y&z"},
		{key: "%7E~", want: "~~"},
		{key: "100%25", want: "100%"},
		{key: "", want: ""},
		{key: "bad%zz", wantErr: true},
		{key: "cut%4", wantErr: true},
		{key: "%", wantErr: true},
		{key: "%FF%FE", wantErr: true}, // not UTF-8
	}
	for _, tt := range tests {
		got, err := ParseEventKey(tt.key)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseEventKey(%q) error = %v, want error %v", tt.key, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseEventKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

// TestParseEventKeyOfEvent decodes an S3 event as Lambda delivers it, and
// agrees with aws-lambda-go's own decoding of the key.
func TestParseEventKeyOfEvent(t *testing.T) {
	data, err := os.ReadFile("testdata/s3-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var event events.S3Event
	if err := json.Unmarshal(data, &event); err != nil {
		t.Fatalf("decode testdata/s3-event.json: %v", err)
	}
	var got []string
	for _, r := range event.Records {
		key, err := ParseEventKey(r.S3.Object.Key)
		if err != nil {
			t.Fatalf("ParseEventKey(%q): %v", r.S3.Object.Key, err)
		}
		if key != r.S3.Object.URLDecodedKey {
			t.Errorf("ParseEventKey(%q) = %q, aws-lambda-go decodes %q", r.S3.Object.Key, key, r.S3.Object.URLDecodedKey)
		}
		got = append(got, key)
	}
	want := []string{
		"uploads/ws_1/01J5Z8X0000000000000000000/contacts.xlsx",
		"imports/red flower+1 (copy).csv",
		"imports/café/menú=2026.xlsx",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys of testdata/s3-event.json (-want +got):\n%s", diff)
	}
}
