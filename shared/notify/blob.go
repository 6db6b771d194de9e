package notify

import "strings"

// ValidBlobKey checks a key against the rules of Blobs: slash-separated
// parts of letters, digits and -_.=, none empty, "." or "..", at most 512
// bytes. Both adapters refuse other keys with an invalid *Error.
func ValidBlobKey(key string) error {
	bad := func(problem string) error {
		return Invalid(FieldError{Field: "key", Problem: problem})
	}
	if key == "" || len(key) > 512 {
		return bad("must be 1 to 512 bytes")
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." || part == ".." {
			return bad("has an empty, . or .. part")
		}
		for _, r := range part {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.=", r)
			if !ok {
				return bad("may hold only letters, digits, -_.= and /")
			}
		}
	}
	return nil
}
