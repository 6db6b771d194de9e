package httpapi

import (
	"net/http"

	"github.com/heraldhq/herald/shared/notify"
)

// The API's shapes for the other HTTP edges that answer in them (the
// browser SDK's routes, package sdkapi): one decoder and one error shape
// for every client of Herald.

// DecodeJSON reads r's body, already bounded by the caller
// (http.MaxBytesReader), into v as the API does: malformed JSON is 400,
// unknown fields, wrong types and control characters 422 naming the
// field, a body over the bound 413.
func DecodeJSON(r *http.Request, v any) error { return decode(r, v) }

// WriteJSON writes v as JSON with status; a value that cannot be encoded
// is a 500 in the API's error shape.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// WriteError writes e in the API's error shape, with the status of its
// code (notify.Error.HTTPStatus).
func WriteError(w http.ResponseWriter, e *notify.Error) { writeError(w, e) }
