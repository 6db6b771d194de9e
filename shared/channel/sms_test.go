package channel

import (
	"strings"
	"testing"
)

func TestSMSSegments(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		enc      SMSEncoding
		units    int
		segments int
	}{
		{"empty", "", GSM7, 0, 0},
		{"ascii", "Your code is 4242", GSM7, 17, 1},
		{"160 septets", strings.Repeat("a", 160), GSM7, 160, 1},
		{"161 septets", strings.Repeat("a", 161), GSM7, 161, 2},
		{"306 septets", strings.Repeat("a", 306), GSM7, 306, 2},
		{"307 septets", strings.Repeat("a", 307), GSM7, 307, 3},
		{"spanish in GSM", "¿Dónde está? ñ é ü", UCS2, 18, 1}, // ó is not GSM-7
		{"gsm accents", "Hola ñandú, él está aquí", UCS2, 24, 1},
		{"gsm only accents", "Ñoño é à ü ö ä", GSM7, 14, 1},
		{"euro costs two", "10€", GSM7, 4, 1},
		{"extension past one segment", strings.Repeat("a", 159) + "€", GSM7, 161, 2},
		{"polish is UCS-2", "Przypomnienie o wizycie: łóżko", UCS2, 30, 1},
		{"70 units", strings.Repeat("ł", 70), UCS2, 70, 1},
		{"71 units", strings.Repeat("ł", 71), UCS2, 71, 2},
		{"emoji is two units", "Hi 👋", UCS2, 5, 1},
		{"emoji never split", strings.Repeat("ł", 66) + "👋" + strings.Repeat("ł", 10), UCS2, 78, 2},
	}
	for _, tt := range tests {
		enc, units, segments := SMSSegments(tt.text)
		if enc != tt.enc || units != tt.units || segments != tt.segments {
			t.Errorf("%s: SMSSegments = %s, %d units, %d segments; want %s, %d, %d", tt.name, enc, units, segments, tt.enc, tt.units, tt.segments)
		}
	}
	// The extension character that would straddle 153 moves whole to part two.
	if got := gsmSegments(strings.Repeat("a", 152)+"€", 153); got != 2 {
		t.Errorf("gsmSegments(152 a + €) = %d, want 2", got)
	}
}
