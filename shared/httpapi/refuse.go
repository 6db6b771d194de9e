package httpapi

import (
	"net/http"

	"github.com/heraldhq/herald/shared/notify"
)

// Refuse answers, in the API's error shape, a request the API never saw:
// one the function's edge (lambdaedge.HTTP) could not make into an
// http.Request. Status 404 is not_found; any other is bad_request, the
// client's mistake.
func Refuse(w http.ResponseWriter, status int, message string) {
	code := notify.CodeBadRequest
	if status == http.StatusNotFound {
		code = notify.CodeNotFound
	}
	writeError(w, notify.Errorf(code, "%s", message))
}
