package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/webpush"
)

// TestEveryChannelThroughFakeProviders runs the local server in process
// with every channel's real provider configured, each pointed at a fake:
// SNS (mobile push and SMS), SES, a Web Push service and WhatsApp's Graph
// API. One send per channel reaches its fake with the right payload, the
// delivery rules skip the users they should (with their reasons), and
// scripted, signed provider callbacks move the deliveries to delivered,
// read or failed, turn preferences off and remove a dead device. Forged
// callbacks are refused and change nothing, and each notification's counts
// add up to its deliveries.
func TestEveryChannelThroughFakeProviders(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server with fake providers; skipped with -short")
	}
	const (
		appSecret = "meta-app-secret-for-tests"
		fcmApp    = "arn:aws:sns:eu-west-1:123456789012:app/GCM/herald-test"
		sesTopic  = "arn:aws:sns:eu-west-1:123456789012:herald-ses-events"
		smsTopic  = "arn:aws:sns:eu-west-1:123456789012:herald-sms-status"
		pushTopic = "arn:aws:sns:eu-west-1:123456789012:herald-push-events"
		ws        = WorkspaceID
	)
	snsFake, sesFake, graph := newFakeSNS(t), newFakeSES(t), newFakeGraph(t)
	vapidPub, vapidPriv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	pushSvc := newFakePushService(t, vapidPub)
	trustTLSServer(t, pushSvc.srv)
	signer, forger := newSNSSigner(t), newSNSSigner(t)
	tmp := t.TempDir()
	certFile := filepath.Join(tmp, "sns-test.pem")
	if err := os.WriteFile(certFile, signer.pem, 0o600); err != nil {
		t.Fatal(err)
	}

	// The AWS SDK reads its own settings from the process environment.
	for k, v := range map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(tmp, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(tmp, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
		"AWS_ENDPOINT_URL_SNS": snsFake.srv.URL, "AWS_ENDPOINT_URL_SESV2": sesFake.srv.URL,
	} {
		t.Setenv(k, v)
	}
	srv := startComposeServer(t, map[string]string{
		"HERALD_LOG_LEVEL":             "info",
		"HERALD_WHATSAPP_ACCESS_TOKEN": "EAAtoken", "HERALD_WHATSAPP_PHONE_NUMBER_ID": "1055", "HERALD_WHATSAPP_BASE_URL": graph.srv.URL,
		"HERALD_WHATSAPP_APP_SECRET": appSecret,
		"HERALD_VAPID_PUBLIC_KEY":    vapidPub, "HERALD_VAPID_PRIVATE_KEY": vapidPriv, "HERALD_VAPID_SUBJECT": "mailto:push-ops@example.com",
		// The fake push service listens on 127.0.0.1, which Herald refuses
		// to push to unless this test-only setting is on.
		"HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS": "1",
		"HERALD_SNS_ENABLED":                  "1", "HERALD_SNS_FCM_APPLICATION_ARN": fcmApp,
		"HERALD_SES_ENABLED": "1", "HERALD_SES_FROM": "Herald <notify@example.com>", "HERALD_SES_CONFIGURATION_SET": "herald-events",
		"HERALD_MARKETING_CATEGORIES":  "offers",
		"HERALD_SES_EVENTS_TOPIC_ARNS": sesTopic, "HERALD_SMS_STATUS_TOPIC_ARNS": smsTopic, "HERALD_PUSH_EVENTS_TOPIC_ARNS": pushTopic,
		"HERALD_SNS_TEST_CERT": certFile,
	})
	base := srv.base
	if want := "Channels: push → SNS mobile push, webpush → Web Push (VAPID), sms → SNS, email → SES, whatsapp → WhatsApp Cloud API"; !strings.Contains(srv.out, want) {
		t.Errorf("startup output does not say %q:\n%s", want, srv.out)
	}

	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		var b any
		if body != "" {
			b = json.RawMessage(body)
		}
		status, m, _ := srv.call(method, path, b)
		if status != want {
			t.Fatalf("%s %s = %d, want %d: %v", method, path, status, want, m)
		}
		return m
	}
	// webhook posts a provider callback and returns the status.
	webhook := func(path string, body []byte, header map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	sns := func(path string, body []byte) int {
		t.Helper()
		return webhook(path, body, map[string]string{"x-amz-sns-message-type": "Notification"})
	}
	type delivery struct {
		UserID            string `json:"userId"`
		Address           string `json:"address"`
		Channel           string `json:"channel"`
		Status            string `json:"status"`
		Reason            string `json:"reason"`
		ProviderMessageID string `json:"providerMessageId"`
		Answer            string `json:"answer"`
		AnsweredAt        string `json:"answeredAt"`
	}
	deliveries := func(nid string) map[string]delivery {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/v1/notifications/"+nid+"/deliveries?limit=500", nil)
		req.Header.Set("Authorization", "Bearer "+sheetKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var page struct {
			Items      []delivery `json:"items"`
			NextCursor string     `json:"nextCursor"`
		}
		if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != 200 || page.NextCursor != "" {
			t.Fatalf("deliveries of %s: status %d, %v, next %q", nid, res.StatusCode, err, page.NextCursor)
		}
		m := map[string]delivery{}
		for _, d := range page.Items {
			m[d.UserID] = d
		}
		return m
	}
	// outcomes is each delivery as "status/reason".
	outcomes := func(nid string) map[string]string {
		t.Helper()
		m := map[string]string{}
		for id, d := range deliveries(nid) {
			m[id] = d.Status + "/" + d.Reason
		}
		return m
	}
	getUser := func(id string) map[string]any { t.Helper(); return call("GET", "/v1/users/"+id, "", 200) }
	send := func(body string) string {
		t.Helper()
		return call("POST", "/v1/notifications", body, 202)["id"].(string)
	}
	waitStatus := func(nid, status string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := call("GET", "/v1/notifications/"+nid, "", 200)
			if n["status"] == status {
				return n
			}
			if time.Now().After(deadline) {
				t.Fatalf("notification %s is %v after 10 s, want %s: %v", nid, n["status"], status, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// 1. Users. Ana can get everything; the others trip one rule each.
	call("PUT", "/v1/users/ana", `{"name": "Ana", "email": "ana@example.com", "phone": "+34600000001"}`, 200)
	anaFCM := call("POST", "/v1/users/ana/devices", `{"kind": "fcm", "token": "fcm-token-of-anas-phone"}`, 201)["id"].(string)
	anaWeb := call("POST", "/v1/users/ana/devices", pushSvc.subscribe(t, "anas-browser"), 201)["id"].(string)
	call("PUT", "/v1/users/ana/push-permission", `{"status": "allowed"}`, 200)
	// Bea has a device but never allowed push; her email bounces, her phone opts out.
	call("PUT", "/v1/users/bea", `{"name": "Bea", "email": "bea@example.com", "phone": "+34600000002"}`, 200)
	call("POST", "/v1/users/bea/devices", `{"kind": "fcm", "token": "fcm-token-of-beas-phone"}`, 201)
	// Carl allowed push but has no device, and turned SMS off.
	call("PUT", "/v1/users/carl", `{"name": "Carl", "email": "carl@example.com", "phone": "+34600000003"}`, 200)
	call("PUT", "/v1/users/carl/push-permission", `{"status": "allowed"}`, 200)
	call("PUT", "/v1/users/carl/preferences", `{"channels": {"sms": false}}`, 200)
	// Dana is in the app right now.
	call("PUT", "/v1/users/dana", `{"name": "Dana", "email": "dana@example.com", "phone": "+34600000004"}`, 200)
	call("POST", "/v1/users/dana/presence", `{"active": true, "ttlSeconds": 600}`, 200)
	// Eve is in her quiet hours (UTC) for two more hours.
	now := time.Now().UTC()
	call("PUT", "/v1/users/eve", `{"name": "Eve", "phone": "+34600000005", "timezone": "UTC"}`, 200)
	call("PUT", "/v1/users/eve/preferences", fmt.Sprintf(`{"quietHours": {"start": %q, "end": %q}}`,
		now.Add(-time.Hour).Format("15:04"), now.Add(2*time.Hour).Format("15:04")), 200)
	// Fay never wrote to us on WhatsApp.
	call("PUT", "/v1/users/fay", `{"name": "Fay", "phone": "+34600000006"}`, 200)

	// 2. One send per channel.
	tpl := call("POST", "/v1/templates", `{"name": "Bill due", "channel": "whatsapp", "body": "Hola {{1}}, debes {{2}}",
		"whatsapp": {"name": "bill_due", "language": "es", "category": "utility", "parameters": ["name", "amount"],
		"buttons": [{"id": "pay", "label": "Pagar"}, {"id": "later", "label": "Más tarde"}]}}`, 201)["id"].(string)
	nPush := send(`{"channel": "push", "content": {"title": "Tu factura", "body": "Hola {{name}}, tu factura está lista", "route": "billing",
		"push": {"buttons": [{"id": "pay", "label": "Pagar", "route": "billing/pay"}]}}, "audience": {"userIds": ["ana", "bea", "carl", "dana"]}}`)
	nWeb := send(`{"channel": "webpush", "content": {"title": "Nueva oferta", "body": "Hola {{name}}, 10% menos", "route": "offers",
		"push": {"icon": "https://cdn.example.com/icon.png"}}, "audience": {"userIds": ["ana", "carl"]}}`)
	nSMS := send(`{"channel": "sms", "content": {"body": "Hola {{name}}, tu codigo es 4242"}, "audience": {"userIds": ["ana", "bea", "carl"]}}`)
	nEmail := send(`{"channel": "email", "category": "offers", "variables": {"month": "mayo"},
		"content": {"title": "Tu factura de {{month}}", "body": "Hola {{name}}, tu factura de {{month}} esta lista.",
		"email": {"subject": "Factura de {{month}}", "html": "<p>Hola {{name}}</p>"}}, "audience": {"userIds": ["ana", "bea", "dana"]}}`)
	nWA := send(`{"channel": "whatsapp", "templateId": "` + tpl + `", "variables": {"amount": "42 €"}, "audience": {"userIds": ["ana", "bea"]}}`)
	nText := send(`{"channel": "whatsapp", "content": {"body": "Hola {{name}}, ¿seguimos?"}, "audience": {"userIds": ["fay"]}}`)
	nQuiet := send(`{"channel": "sms", "content": {"body": "Hola {{name}}, buenas noches"}, "audience": {"userIds": ["eve"]}}`)
	names := map[string]string{nPush: "push", nWeb: "webpush", nSMS: "sms", nEmail: "email", nWA: "whatsapp template",
		nText: "whatsapp text", nQuiet: "quiet-hours sms"}
	for _, nid := range []string{nPush, nWeb, nSMS, nEmail, nWA, nText} {
		waitStatus(nid, "completed")
	}
	// Quiet hours defer, never drop: the send started, Eve is still queued,
	// with no delivery recorded and nothing sent.
	quiet := waitStatus(nQuiet, "sending")
	if diff := cmp.Diff(map[string]any{"total": 1.0, "queued": 1.0, "sent": 0.0, "delivered": 0.0, "read": 0.0, "failed": 0.0, "skipped": 0.0}, quiet["counts"]); diff != "" {
		t.Errorf("counts of the send to Eve in her quiet hours (-want +got):\n%s", diff)
	}
	if got := deliveries(nQuiet); len(got) != 0 {
		t.Errorf("Eve, in her quiet hours, has deliveries %v; want none until the window ends", got)
	}

	// 3. What each provider received.
	// Mobile push: one endpoint, for Ana's token, naming its owner; the
	// FCM v1 payload published to it.
	eps := snsFake.endpointsSnapshot()
	var anaARN string
	for arn, e := range eps {
		anaARN = arn
		if want := (snsEndpointAttrs{App: fcmApp, Token: "fcm-token-of-anas-phone", CustomUserData: "herald1/" + ws + "/ana/" + anaFCM, Enabled: "true"}); e != want {
			t.Errorf("endpoint %s = %+v, want %+v", arn, e, want)
		}
	}
	if len(eps) != 1 {
		t.Fatalf("SNS endpoints %v, want one, for Ana's phone", eps)
	}
	pushes := snsFake.publishedTo(anaARN)
	if len(pushes) != 1 {
		t.Fatalf("publishes to Ana's endpoint: %+v, want 1", pushes)
	}
	var msg map[string]string
	if err := json.Unmarshal([]byte(pushes[0].Message), &msg); err != nil || pushes[0].MessageStructure != "json" {
		t.Fatalf("push Message %q (structure %q): want a JSON message structure: %v", pushes[0].Message, pushes[0].MessageStructure, err)
	}
	var gcm struct {
		FCMV1Message struct {
			Message struct {
				Notification map[string]string `json:"notification"`
				Data         map[string]string `json:"data"`
				Android      struct {
					CollapseKey string `json:"collapse_key"`
				} `json:"android"`
			} `json:"message"`
		} `json:"fcmV1Message"`
	}
	if err := json.Unmarshal([]byte(msg["GCM"]), &gcm); err != nil {
		t.Fatalf("GCM payload %q: %v", msg["GCM"], err)
	}
	fcm := gcm.FCMV1Message.Message
	if msg["default"] != "Hola Ana, tu factura está lista" ||
		!cmp.Equal(fcm.Notification, map[string]string{"title": "Tu factura", "body": "Hola Ana, tu factura está lista"}) ||
		!cmp.Equal(fcm.Data, map[string]string{"route": "billing", "notificationId": nPush, "buttons": `[{"id":"pay","label":"Pagar","route":"billing/pay"}]`}) ||
		fcm.Android.CollapseKey == "" {
		t.Errorf("push message = %s, want Ana's title, body, route, button and notification id in the FCM v1 payload", pushes[0].Message)
	}
	// SMS: one Publish per phone that may get it, transactional.
	smsID := map[string]string{}
	for user, want := range map[string]string{"ana": "Hola Ana, tu codigo es 4242", "bea": "Hola Bea, tu codigo es 4242"} {
		phone := map[string]string{"ana": "+34600000001", "bea": "+34600000002"}[user]
		got := snsFake.publishedTo(phone)
		if len(got) != 1 || got[0].Message != want || got[0].TargetArn != "" || got[0].MessageStructure != "" ||
			!cmp.Equal(got[0].Attributes, map[string]string{"AWS.SNS.SMS.SMSType": "String:Transactional"}) {
			t.Errorf("SMS publishes to %s = %+v, want one %q, transactional", phone, got, want)
			continue
		}
		smsID[user] = got[0].MessageID
	}
	if n := len(snsFake.allPublished()); n != 3 {
		t.Errorf("SNS got %d publishes, want 3 (Ana's push, Ana's and Bea's SMS): %+v", n, snsFake.allPublished())
	}
	// Email: Ana's and Bea's, tagged, in the configuration set, with
	// one-click unsubscribe (the category is marketing).
	emails := map[string]sesEmail{}
	for _, e := range sesFake.emails() {
		emails[strings.Join(e.Destination.ToAddresses, ",")] = e
	}
	if len(emails) != 2 || len(sesFake.emails()) != 2 {
		t.Errorf("SES got %d emails to %v, want one each to ana@ and bea@", len(sesFake.emails()), slices.Collect(maps.Keys(emails)))
	}
	for user, e := range map[string]sesEmail{"ana": emails["ana@example.com"], "bea": emails["bea@example.com"]} {
		name := map[string]string{"ana": "Ana", "bea": "Bea"}[user]
		s := e.Content.Simple
		// Each part ends with the link to the user's preference page.
		if e.FromEmailAddress != `"Herald" <notify@example.com>` || e.ConfigurationSetName != "herald-events" ||
			s.Subject.Data != "Factura de mayo" || s.Body.Text == nil || !strings.HasPrefix(s.Body.Text.Data, "Hola "+name+", tu factura de mayo esta lista.\n\n--\n") ||
			!strings.Contains(s.Body.Text.Data, ": "+base+"/preferences/") ||
			s.Body.Html == nil || !strings.HasPrefix(s.Body.Html.Data, "<p>Hola "+name+"</p>") || !strings.Contains(s.Body.Html.Data, `href="`+base+`/preferences/`) {
			t.Errorf("email to %s = %+v", user, e)
		}
		if diff := cmp.Diff(map[string]string{"herald-workspace": "ws_local", "herald-notification": nEmail, "herald-user": user, "herald-category": "offers"}, e.tags()); diff != "" {
			t.Errorf("email tags of %s (-want +got):\n%s", user, diff)
		}
		if u := e.header("List-Unsubscribe"); !strings.HasPrefix(u, "<"+base+"/unsubscribe/") || !strings.HasSuffix(u, ">") ||
			e.header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("unsubscribe headers of %s's email: %+v", user, s.Headers)
		}
	}
	// Web push: Ana's browser, signed for the push service's origin,
	// encrypted for her subscription.
	webs := pushSvc.pushes()
	if len(webs) != 1 {
		t.Fatalf("push service got %d pushes, want 1: %+v", len(webs), webs)
	}
	wp := webs[0]
	if wp.Token != "anas-browser" || wp.Audience != pushSvc.srv.URL || wp.Subject != "mailto:push-ops@example.com" || wp.Urgency != "normal" || wp.TTL != "86400" {
		t.Errorf("web push = %+v", wp)
	}
	if diff := cmp.Diff(map[string]any{"title": "Nueva oferta", "body": "Hola Ana, 10% menos", "route": "offers",
		"icon": "https://cdn.example.com/icon.png", "notificationId": nWeb}, wp.Payload); diff != "" {
		t.Errorf("web push payload (-want +got):\n%s", diff)
	}
	// WhatsApp: the template to Ana and Bea, with the parameter and the
	// quick replies, each naming its delivery; nothing to Fay.
	wa := map[string]graphSent{}
	for _, m := range graph.messages() {
		wa[fmt.Sprint(m.Body["to"])] = m
	}
	if len(wa) != 2 || len(graph.messages()) != 2 {
		t.Errorf("Graph API got %d messages to %v, want the template to Ana and Bea only", len(graph.messages()), slices.Collect(maps.Keys(wa)))
	}
	payloads := map[string]map[string]string{} // user → button id → payload
	callbackData := map[string]string{}
	for user, phone := range map[string]string{"ana": "+34600000001", "bea": "+34600000002"} {
		m := wa[phone]
		name := map[string]string{"ana": "Ana", "bea": "Bea"}[user]
		if m.Auth != "Bearer EAAtoken" || !strings.HasSuffix(m.Path, "/1055/messages") || m.Body["type"] != "template" {
			t.Errorf("WhatsApp message to %s: %+v", user, m)
			continue
		}
		var req struct {
			Template struct {
				Name     string `json:"name"`
				Language struct {
					Code string `json:"code"`
				} `json:"language"`
				Components []struct {
					Type       string `json:"type"`
					SubType    string `json:"sub_type"`
					Index      string `json:"index"`
					Parameters []struct {
						Type, Text, Payload string
					} `json:"parameters"`
				} `json:"components"`
			} `json:"template"`
			CallbackData string `json:"biz_opaque_callback_data"`
		}
		b, _ := json.Marshal(m.Body)
		_ = json.Unmarshal(b, &req)
		tp := req.Template
		ok := tp.Name == "bill_due" && tp.Language.Code == "es" && len(tp.Components) == 3 &&
			tp.Components[0].Type == "body" && len(tp.Components[0].Parameters) == 2 &&
			tp.Components[0].Parameters[0].Text == name && tp.Components[0].Parameters[1].Text == "42 €"
		payloads[user] = map[string]string{}
		for i, c := range tp.Components[min(1, len(tp.Components)):] {
			if c.Type != "button" || c.SubType != "quick_reply" || c.Index != fmt.Sprint(i) || len(c.Parameters) != 1 || c.Parameters[0].Type != "payload" {
				ok = false
				continue
			}
			var p map[string]string
			_ = json.Unmarshal([]byte(c.Parameters[0].Payload), &p)
			mac := p["m"] // signed for the phone it goes to; checked by pressing below
			delete(p, "m")
			if want := []string{"pay", "later"}[min(i, 1)]; !cmp.Equal(p, map[string]string{"w": ws, "n": nWA, "r": user, "b": want}) || len(mac) != 22 {
				t.Errorf("quick reply %d payload of %s = %q, want it to name the delivery and button %s, with a MAC", i, user, c.Parameters[0].Payload, want)
			}
			payloads[user][p["b"]] = c.Parameters[0].Payload
		}
		if !ok {
			t.Errorf("WhatsApp template to %s = %s, want bill_due/es with [%s, 42 €] and two quick replies", user, b, name)
		}
		var cd map[string]string
		_ = json.Unmarshal([]byte(req.CallbackData), &cd)
		if !cmp.Equal(cd, map[string]string{"w": ws, "n": nWA, "r": user}) {
			t.Errorf("biz_opaque_callback_data to %s = %q, want the delivery", user, req.CallbackData)
		}
		callbackData[user] = req.CallbackData
	}

	// The deliveries as sent, with the rules' skips and their reasons.
	want := map[string]map[string]string{
		nPush:  {"ana": "sent/", "bea": "skipped/no_consent", "carl": "skipped/no_device", "dana": "skipped/active_in_app"},
		nWeb:   {"ana": "sent/", "carl": "skipped/no_device"},
		nSMS:   {"ana": "sent/", "bea": "sent/", "carl": "skipped/no_consent"},
		nEmail: {"ana": "sent/", "bea": "sent/", "dana": "skipped/active_in_app"},
		nWA:    {"ana": "sent/", "bea": "sent/"},
		nText:  {"fay": "skipped/window_expired"},
	}
	for nid, w := range want {
		if diff := cmp.Diff(w, outcomes(nid)); diff != "" {
			t.Errorf("deliveries of the %s send (-want +got):\n%s", names[nid], diff)
		}
	}
	ids := map[string]string{ // delivery → the provider's message id
		nPush + "/ana": pushes[0].MessageID, nSMS + "/ana": smsID["ana"], nSMS + "/bea": smsID["bea"],
		nEmail + "/ana": emails["ana@example.com"].MessageID, nEmail + "/bea": emails["bea@example.com"].MessageID,
		nWA + "/ana": wa["+34600000001"].WAMID, nWA + "/bea": wa["+34600000002"].WAMID, nWeb + "/ana": wp.Location,
	}
	for k, id := range ids {
		nid, user, _ := strings.Cut(k, "/")
		if got := deliveries(nid)[user].ProviderMessageID; got != id || id == "" {
			t.Errorf("delivery %s has providerMessageId %q, want %q (the provider's answer)", k, got, id)
		}
	}

	// 4. Callbacks. Forged ones first: refused, and nothing changes.
	waStatus := func(user, status string, at time.Time, errCode int) []byte {
		st := map[string]any{"id": wa[map[string]string{"ana": "+34600000001", "bea": "+34600000002"}[user]].WAMID, "status": status,
			"timestamp": fmt.Sprint(at.Unix()), "recipient_id": "3460000000" + map[string]string{"ana": "1", "bea": "2"}[user],
			"biz_opaque_callback_data": callbackData[user]}
		if errCode != 0 {
			st["errors"] = []any{map[string]any{"code": errCode, "title": "Message undeliverable"}}
		}
		return waCallback(t, map[string]any{"statuses": []any{st}})
	}
	sesEvent := func(kind, to string, detail map[string]any) string {
		e := emails[to]
		tags := map[string][]string{"ses:configuration-set": {"herald-events"}, "ses:from-domain": {"example.com"}}
		for _, tg := range e.EmailTags {
			tags[tg.Name] = []string{tg.Value}
		}
		ev := map[string]any{"eventType": kind, "mail": map[string]any{
			"timestamp": now.Format(time.RFC3339Nano), "source": e.FromEmailAddress, "messageId": e.MessageID,
			"destination": e.Destination.ToAddresses, "tags": tags}}
		for k, v := range detail {
			ev[k] = v
		}
		b, _ := json.Marshal(ev)
		return string(b)
	}
	stamp := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	sesDelivery := map[string]any{"delivery": map[string]any{"timestamp": stamp, "processingTimeMillis": 2121,
		"recipients": []string{"ana@example.com"}, "smtpResponse": "250 2.6.0 Message received"}}
	sesBounce := map[string]any{"bounce": map[string]any{"bounceType": "Permanent", "bounceSubType": "General", "timestamp": stamp,
		"bouncedRecipients": []any{map[string]string{"emailAddress": "bea@example.com", "action": "failed", "status": "5.1.1"}}}}
	smsRecord := func(messageID, status, destination, response string) string {
		b, _ := json.Marshal(map[string]any{
			"notification": map[string]any{"messageId": messageID, "timestamp": time.Now().UTC().Format("2006-01-02 15:04:05.000")},
			"delivery": map[string]any{"phoneCarrier": "Movistar", "mnc": 7, "mcc": 214, "destination": destination, "priceInUSD": 0.06,
				"smsType": "Transactional", "providerResponse": response, "dwellTimeMs": 599},
			"status": status})
		return string(b)
	}
	pushEvent, _ := json.Marshal(map[string]any{"DeliveryAttempts": 1, "EndpointArn": anaARN, "EventType": "DeliveryFailure",
		"FailureMessage": "Platform token associated with the endpoint is not valid", "FailureType": "InvalidPlatformToken",
		"MessageId": pushes[0].MessageID, "Resource": fcmApp, "Service": "SNS", "Time": stamp})

	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	forgedWA := waStatus("ana", "read", t0, 0)
	for _, c := range []struct {
		what   string
		status int
		got    int
	}{
		{"WhatsApp status signed with another secret", 401, webhook("/webhooks/whatsapp", forgedWA, map[string]string{"X-Hub-Signature-256": metaSignature("not-the-app-secret", forgedWA)})},
		{"WhatsApp status without a signature", 401, webhook("/webhooks/whatsapp", forgedWA, nil)},
		{"SES bounce signed by another key", 401, sns("/webhooks/ses", forger.notification(t, sesTopic, sesEvent("Bounce", "ana@example.com", sesBounce)))},
		{"SES bounce from a topic not configured", 403, sns("/webhooks/ses", signer.notification(t, "arn:aws:sns:eu-west-1:999999999999:someone-elses", sesEvent("Bounce", "ana@example.com", sesBounce)))},
		{"SMS opt-out signed by another key", 401, sns("/webhooks/sms", forger.notification(t, smsTopic, smsRecord(smsID["ana"], "FAILURE", "+34600000001", "Phone number is opted out")))},
		{"push failure signed by another key", 401, sns("/webhooks/push", forger.notification(t, pushTopic, string(pushEvent)))},
	} {
		if c.got != c.status {
			t.Errorf("%s answered %d, want %d", c.what, c.got, c.status)
		}
	}
	for nid, w := range map[string]string{nWA: "sent/", nEmail: "sent/", nSMS: "sent/", nPush: "sent/"} {
		if got := outcomes(nid)["ana"]; got != w {
			t.Errorf("after forged callbacks Ana's %s delivery is %s, want %s", names[nid], got, w)
		}
	}
	ana := getUser("ana")
	if devs, _ := ana["devices"].([]any); len(devs) != 2 || !cmp.Equal(ana["preferences"], map[string]any{}) {
		t.Errorf("after forged callbacks Ana = %v, want her two devices and no preference turned off", ana)
	}
	if calls := snsFake.calls(); slices.ContainsFunc(calls, func(c string) bool {
		return !strings.HasPrefix(c, "Publish") && !strings.HasPrefix(c, "CreatePlatformEndpoint")
	}) {
		t.Errorf("forged push failure reached SNS: %v", calls)
	}

	// WhatsApp: delivered then read (a late "delivered" does not undo it),
	// Bea's failed; Ana presses "Pagar".
	signedWA := func(body []byte) int {
		return webhook("/webhooks/whatsapp", body, map[string]string{"X-Hub-Signature-256": metaSignature(appSecret, body)})
	}
	for _, body := range [][]byte{waStatus("ana", "delivered", t0, 0), waStatus("bea", "failed", t0, 131026)} {
		if got := signedWA(body); got != 200 {
			t.Fatalf("signed WhatsApp status answered %d, want 200", got)
		}
	}
	if got := outcomes(nWA); !cmp.Equal(got, map[string]string{"ana": "delivered/", "bea": "failed/whatsapp_131026"}) {
		t.Errorf("WhatsApp deliveries after delivered/failed statuses = %v", got)
	}
	for _, body := range [][]byte{waStatus("ana", "read", t0.Add(5*time.Second), 0), waStatus("ana", "delivered", t0.Add(time.Second), 0)} {
		if got := signedWA(body); got != 200 {
			t.Fatalf("signed WhatsApp status answered %d, want 200", got)
		}
	}
	// Bea's button pressed from Ana's phone counts for nobody.
	stolen := waCallback(t, map[string]any{
		"messages": []any{map[string]any{"from": "34600000001", "id": "wamid.HBgLMzQ2MDAwMDAwMDEVAgASGBQzQUA", "timestamp": fmt.Sprint(t0.Add(9 * time.Second).Unix()),
			"type": "button", "button": map[string]string{"payload": payloads["bea"]["later"], "text": "Luego"}}},
	})
	if got := signedWA(stolen); got != 200 {
		t.Fatalf("quick reply from the wrong phone answered %d, want 200 (ignored)", got)
	}
	if d := deliveries(nWA)["bea"]; d.Answer != "" {
		t.Errorf("Bea's delivery after her button was pressed from Ana's phone has answer %q, want none", d.Answer)
	}
	press := waCallback(t, map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]string{"name": "Ana"}, "wa_id": "34600000001"}},
		"messages": []any{map[string]any{"context": map[string]string{"from": "15550001055", "id": wa["+34600000001"].WAMID},
			"from": "34600000001", "id": "wamid.HBgLMzQ2MDAwMDAwMDEVAgASGBQzQUI", "timestamp": fmt.Sprint(t0.Add(10 * time.Second).Unix()),
			"type": "button", "button": map[string]string{"payload": payloads["ana"]["pay"], "text": "Pagar"}}},
	})
	if got := signedWA(press); got != 200 {
		t.Fatalf("signed quick-reply press answered %d, want 200", got)
	}
	waDs := deliveries(nWA)
	if d := waDs["ana"]; d.Status != "read" {
		t.Errorf("Ana's WhatsApp delivery after read, a late delivered and a quick reply = %+v, want read", d)
	}
	if d := waDs["ana"]; d.Answer != "pay" || d.AnsweredAt != t0.Add(10*time.Second).UTC().Format(time.RFC3339) {
		t.Errorf("Ana's WhatsApp delivery in GET /v1/notifications/{id}/deliveries has answer %q answeredAt %q, want \"pay\" at %s (the button she pressed, when)",
			d.Answer, d.AnsweredAt, t0.Add(10*time.Second).UTC().Format(time.RFC3339))
	}
	ana = getUser("ana")
	if la, _ := ana["lastAnswer"].(map[string]any); la["notificationId"] != nWA || la["answer"] != "pay" {
		t.Errorf("Ana's lastAnswer = %v, want pay on %s", ana["lastAnswer"], nWA)
	}
	if conv := call("GET", "/v1/users/ana/conversation", "", 200); fmt.Sprint(conv["whatsapp"].(map[string]any)["state"]) != "open" {
		t.Errorf("Ana's conversation after her quick reply = %v, want open", conv)
	}

	// SES: Ana's email delivered, Bea's bounced for good.
	if got := sns("/webhooks/ses", signer.notification(t, sesTopic, sesEvent("Delivery", "ana@example.com", sesDelivery))); got != 200 {
		t.Errorf("SES delivery event answered %d, want 200", got)
	}
	if got := sns("/webhooks/ses", signer.notification(t, sesTopic, sesEvent("Bounce", "bea@example.com", sesBounce))); got != 200 {
		t.Errorf("SES bounce event answered %d, want 200", got)
	}
	// SMS: Ana's delivered, Bea's phone opted out.
	if got := sns("/webhooks/sms", signer.notification(t, smsTopic, smsRecord(smsID["ana"], "SUCCESS", "+34600000001", "Message has been accepted by phone"))); got != 200 {
		t.Errorf("SMS success record answered %d, want 200", got)
	}
	if got := sns("/webhooks/sms", signer.notification(t, smsTopic, smsRecord(smsID["bea"], "FAILURE", "+34600000002", "Phone number is opted out"))); got != 200 {
		t.Errorf("SMS failure record answered %d, want 200", got)
	}
	// Push: Ana's token is dead.
	if got := sns("/webhooks/push", signer.notification(t, pushTopic, string(pushEvent))); got != 200 {
		t.Errorf("push delivery failure answered %d, want 200", got)
	}

	bea := getUser("bea")
	if diff := cmp.Diff(map[string]any{"channels": map[string]any{"email": false, "sms": false}}, bea["preferences"]); diff != "" {
		t.Errorf("Bea's preferences after a hard bounce and an SMS opt-out (-want +got):\n%s", diff)
	}
	ana = getUser("ana")
	var anaDevices []string
	for _, d := range ana["devices"].([]any) {
		anaDevices = append(anaDevices, d.(map[string]any)["id"].(string))
	}
	if !cmp.Equal(anaDevices, []string{anaWeb}) || !cmp.Equal(ana["preferences"], map[string]any{}) {
		t.Errorf("Ana after her token died: devices %v (want only her browser %s), preferences %v (want untouched)", anaDevices, anaWeb, ana["preferences"])
	}
	calls := snsFake.calls()
	if !slices.Contains(calls, "GetEndpointAttributes "+anaARN) || !slices.Contains(calls, "DeleteEndpoint "+anaARN) {
		t.Errorf("SNS calls %v, want the dead endpoint read and deleted", calls)
	}
	if _, ok := snsFake.endpointsSnapshot()[anaARN]; ok {
		t.Errorf("endpoint %s still exists after the push failure", anaARN)
	}

	want = map[string]map[string]string{
		nPush:  {"ana": "sent/", "bea": "skipped/no_consent", "carl": "skipped/no_device", "dana": "skipped/active_in_app"},
		nWeb:   {"ana": "sent/", "carl": "skipped/no_device"},
		nSMS:   {"ana": "delivered/", "bea": "failed/opted_out", "carl": "skipped/no_consent"},
		nEmail: {"ana": "delivered/", "bea": "failed/bounce", "dana": "skipped/active_in_app"},
		nWA:    {"ana": "read/", "bea": "failed/whatsapp_131026"},
		nText:  {"fay": "skipped/window_expired"},
	}
	for nid, w := range want {
		if diff := cmp.Diff(w, outcomes(nid)); diff != "" {
			t.Errorf("deliveries of the %s send after the callbacks (-want +got):\n%s", names[nid], diff)
		}
	}

	// Eve's SMS is still waiting for the end of her quiet hours.
	if got := snsFake.publishedTo("+34600000005"); len(got) != 0 {
		t.Errorf("SMS to Eve during her quiet hours: %+v", got)
	}

	// 5. Each notification's counts are its deliveries by status, and the
	// recipients not recorded yet are queued.
	for _, nid := range []string{nPush, nWeb, nSMS, nEmail, nWA, nText, nQuiet} {
		n := call("GET", "/v1/notifications/"+nid, "", 200)
		ds := deliveries(nid)
		tally := map[string]any{"total": 0.0, "queued": 0.0, "sent": 0.0, "delivered": 0.0, "read": 0.0, "failed": 0.0, "skipped": 0.0}
		for _, d := range ds {
			tally[d.Status] = tally[d.Status].(float64) + 1
		}
		total, _ := n["counts"].(map[string]any)["total"].(float64)
		tally["total"] = total
		tally["queued"] = total - float64(len(ds))
		if diff := cmp.Diff(tally, n["counts"]); diff != "" {
			t.Errorf("counts of the %s send %s against its deliveries (-deliveries +counts):\n%s", names[nid], nid, diff)
		}
		if wantTotal := float64(len(want[nid])); nid != nQuiet && total != wantTotal {
			t.Errorf("%s send has total %v, want %v", names[nid], total, wantTotal)
		}
	}
}

// waCallback is a WhatsApp Cloud API webhook body with one change whose
// value has the given statuses or messages.
func waCallback(t *testing.T, value map[string]any) []byte {
	t.Helper()
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]string{"display_phone_number": "15550001055", "phone_number_id": "1055"}
	b, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{
		map[string]any{"id": "102290129340398", "changes": []any{map[string]any{"field": "messages", "value": value}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lockedBuffer collects the server's logs from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
