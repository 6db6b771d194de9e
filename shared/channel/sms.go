package channel

import "unicode/utf16"

// SMSEncoding is how a text travels in an SMS: GSM-7 when every character is
// in the GSM 03.38 alphabet (with its extension table), UCS-2 otherwise.
type SMSEncoding string

// SMS encodings.
const (
	GSM7 SMSEncoding = "GSM-7"
	UCS2 SMSEncoding = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet; each costs one septet.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table; each costs two septets
// (an escape and the character).
const gsmExtension = "\f^{}\\[~]|€"

var gsmCost = func() map[rune]int {
	m := make(map[rune]int, 160)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// SMSSegments tells how text is sent: its encoding, its length in that
// encoding's units (septets for GSM-7, UTF-16 code units for UCS-2) and
// how many segments it takes. A single segment holds 160 septets or 70
// units; a concatenated message loses room to its header: 153 and 67.
func SMSSegments(text string) (enc SMSEncoding, units, segments int) {
	enc = GSM7
	for _, r := range text {
		c, ok := gsmCost[r]
		if !ok {
			enc = UCS2
			break
		}
		units += c
	}
	single, multi := 160, 153
	if enc == UCS2 {
		units = len(utf16.Encode([]rune(text)))
		single, multi = 70, 67
	}
	switch {
	case units == 0:
		return enc, 0, 0
	case units <= single:
		return enc, units, 1
	}
	if enc == GSM7 {
		return enc, units, gsmSegments(text, multi)
	}
	return enc, units, ucs2Segments(text, multi)
}

// gsmSegments counts parts of at most max septets; an escape and its
// character never split across two parts.
func gsmSegments(text string, max int) int {
	parts, used := 1, 0
	for _, r := range text {
		c := gsmCost[r]
		if used+c > max {
			parts, used = parts+1, 0
		}
		used += c
	}
	return parts
}

// ucs2Segments counts parts of at most max UTF-16 units; a surrogate pair
// (an emoji) never splits across two parts.
func ucs2Segments(text string, max int) int {
	parts, used := 1, 0
	for _, r := range text {
		c := utf16.RuneLen(r)
		if used+c > max {
			parts, used = parts+1, 0
		}
		used += c
	}
	return parts
}
