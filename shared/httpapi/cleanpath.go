package httpapi

import (
	"net/http"
	"path"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
)

// cleanPath reports whether p is already in the form a ServeMux cleans
// paths to: no empty, "." or ".." segments, a trailing slash kept. The
// mux answers any other path with a redirect (an HTML 307) to its cleaned
// form; the API answers it 404 in its error shape instead, as any path
// that names no route, so that no client follows a redirect (and resends
// its key and body) to a path it did not ask for.
func cleanPath(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// CleanPathsOnly answers a request whose path is not clean (cleanPath)
// with the API's 404 before next sees it: the local server wraps the
// ServeMux that puts the webhooks beside the API with it, since that mux
// would redirect such a path before the API could answer it.
func CleanPathsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !refusedUnclean(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// refusedUnclean answers r with the API's 404 when its path is not clean,
// and says whether it did.
func refusedUnclean(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodConnect || cleanPath(r.URL.Path) {
		return false
	}
	writeError(w, notify.Errorf(notify.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
	return true
}
