package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald/shared/notify"
)

// testKeys are a browser's subscription keys (from the Web Push spec's
// example); the endpoint is what these tests vary.
var testKeys = map[string]string{"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", "auth": "tBHItJI5svbpez7KI4CCXg"}

func webPushDevice(endpoint string) map[string]any {
	return map[string]any{"kind": "webpush", "subscription": map[string]any{"endpoint": endpoint, "keys": testKeys}}
}

// TestRegisterDeviceRefusesPrivateEndpoints: a send key must not make
// Herald POST to the deployment's own network, so an endpoint that names
// a non-public address in any spelling, a local name, user info or plain
// http is a 422 on subscription.endpoint, and nothing is stored.
func TestRegisterDeviceRefusesPrivateEndpoints(t *testing.T) {
	e := newEnv(t)
	sendKey := e.key("ws1", "k-send", notify.ScopeSend)
	e.must(200, "PUT", "/v1/users/ana", e.admin, map[string]any{"name": "Ana"})
	for _, endpoint := range []string{
		"https://127.0.0.1:8443/wpush/v2/x",
		"https://169.254.169.254/latest/meta-data/",
		"https://[::1]/x",
		"https://localhost:9200/x",
		"https://localhost./x",
		"https://push.localhost/x",
		"https://metadata.google.internal/computeMetadata/v1/",
		"https://2130706433/x",
		"https://0x7f.1/x",
		"https://017700000001/x",
		"https://127.1/x",
		"https://0.0.0.0/x",
		"https://[::]/x",
		"https://[::ffff:127.0.0.1]/x",
		"https://[::ffff:7f00:1]/x",
		"https://[64:ff9b::7f00:1]/x",
		"https://[fe80::1%25eth0]/x",
		"https://[fd00::1]/x",
		"https://10.1.2.3/x",
		"https://172.16.0.1/x",
		"https://192.168.0.1/x",
		"https://100.64.0.1/x",
		"https://224.0.0.1/x",
		"https://intranet/x",
		"https://fcm.googleapis.com@10.0.0.1/x",
		"https://user:pass@fcm.googleapis.com/fcm/send/x",
		"http://fcm.googleapis.com/fcm/send/x",
		"https://fcm.googleapis.com/" + strings.Repeat("x", 2048),
	} {
		r := e.do("POST", "/v1/users/ana/devices", sendKey, webPushDevice(endpoint))
		if r.status != 422 || r.errField() != "subscription.endpoint" {
			t.Errorf("register %.70s = %d %s, want 422 on subscription.endpoint", endpoint, r.status, r.raw)
		}
	}
	if u := e.must(200, "GET", "/v1/users/ana", e.admin, nil); len(u.body["devices"].([]any)) != 0 {
		t.Errorf("devices after refused registrations = %v, want none", u.body["devices"])
	}
	for _, endpoint := range []string{
		"https://fcm.googleapis.com/fcm/send/dXJ4:APA91b",
		"https://updates.push.services.mozilla.com/wpush/v2/gAAAAABm",
		"https://web.push.apple.com/QGx3",
		"https://wns2-db5p.notify.windows.com/w/?token=BQYAAAB",
	} {
		e.must(201, "POST", "/v1/users/ana/devices", sendKey, webPushDevice(endpoint))
	}
}

// TestRegisterDeviceAllowPrivateEndpoints: the test-only setting lets a
// local fake push service register; a request cannot turn it on.
func TestRegisterDeviceAllowPrivateEndpoints(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/ana", e.admin, map[string]any{"name": "Ana"})
	local := httptest.NewServer(testServer(e.store, e.queue, deps{AllowPrivateEndpoints: true}, Options{Outbox: e.store, Config: Config{MaxBodyBytes: 1 << 20}}))
	defer local.Close()
	onLocal := *e
	onLocal.srv = local
	onLocal.must(201, "POST", "/v1/users/ana/devices", e.admin, webPushDevice("https://127.0.0.1:8443/wpush/v2/x"))
	// Still https, without user info.
	onLocal.must(422, "POST", "/v1/users/ana/devices", e.admin, webPushDevice("http://127.0.0.1:8443/wpush/v2/x"))
	onLocal.must(422, "POST", "/v1/users/ana/devices", e.admin, webPushDevice("https://u:p@127.0.0.1:8443/wpush/v2/x"))
	// The production server ignores anything a request says about it.
	body := webPushDevice("https://127.0.0.1:8443/wpush/v2/y")
	body["allowPrivateEndpoints"] = true
	if r := e.do("POST", "/v1/users/ana/devices", e.admin, body); r.status != 422 && r.status != 400 {
		t.Errorf("register with allowPrivateEndpoints in the body = %d %s, want 400 or 422", r.status, r.raw)
	}
}
