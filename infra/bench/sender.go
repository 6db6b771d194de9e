package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/webpush"
)

// Part sender: the real sender path of the local server, each channel's
// provider pointed at an in-process fake of its API (issue 18): SES v2 for
// email, SNS for SMS, a Web Push service over HTTPS for browser pushes.
// Each channel runs on a fresh server; one personalised message (~420
// bytes, a {{name}} variable) goes to every seeded user. Figures: msgs/s of
// the send phase (wall clock: disturbed by whatever else runs on the
// machine), the server's CPU seconds per 100,000 messages (utime+stime of
// the process, which a busy machine does not inflate), its heap
// allocations per message (the runtime's Mallocs, read through pprof),
// peak RSS, and the TCP connections the fake accepted against the
// server's senders in flight (workers × concurrency).

// senderOptions size and tune part sender.
type senderOptions struct {
	users    int
	channels []string
	// profileDir, when set, receives a CPU profile of the server over the
	// first profileFor of each channel's send phase.
	profileDir string
	profileFor time.Duration
}

// senderBody is the message every recipient gets: 420 bytes with the
// recipient's name in it, about a real newsletter's text part.
const senderBody = "Hello {{name}},\n\n" +
	"Your energy report for this month is ready. You used 12% less than last month, " +
	"which saved you about 18 euros. The biggest drop came from heating, thanks to the " +
	"milder weather and the new schedule you set in the app.\n\n" +
	"Open the app to see the day-by-day chart and three tips picked for your home. " +
	"Questions? Reply to this email and our team will get back to you within a day.\n\n" +
	"Thanks for saving with us,\nThe Herald Energy team"

// senderWorkers and senderConcurrency are the server's defaults
// (HERALD_WORKERS, HERALD_SEND_CONCURRENCY), which the bench sets
// explicitly so that the connection figure has a known bound.
const (
	senderWorkers     = 4
	senderConcurrency = 32
)

// senderTargets are the goals per channel: msgs/s, CPU seconds
// per 100,000. SMS and Web Push have no figure of their own: the email's
// apply, and Web Push encrypts and signs every message, which costs more.
var senderTargets = map[string][2]string{
	"email":   {"15,000", "7"},
	"sms":     {"15,000 (email's)", "7 (email's)"},
	"webpush": {"15,000 (email's)", "7 (email's)"},
	"outbox":  {"50,000", "—"},
}

func benchSender(ctx context.Context, bin string, o senderOptions) error {
	var failed []string
	for _, ch := range o.channels {
		fmt.Printf("-- %s\n", ch)
		if err := benchSenderChannel(ctx, bin, ch, o); err != nil {
			fmt.Printf("%s: FAILED: %v\n", ch, err)
			failed = append(failed, ch)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("channels %s failed", strings.Join(failed, ", "))
	}
	return nil
}

// senderSink is one fake provider: an httptest server on a listener that
// counts the connections it accepts, and what it received per recipient.
type senderSink struct {
	srv      *httptest.Server
	accepted atomic.Int64
	closed   atomic.Int64 // connections closed (by either side) while open
	requests atomic.Int64
	mu       sync.Mutex
	seen     map[string]int // recipient (address, phone or token) → requests
	bad      []string       // the first few requests that did not look right
}

// countingListener counts the connections accepted.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func newSenderSink(handle func(s *senderSink, w http.ResponseWriter, r *http.Request, body []byte), tls bool) *senderSink {
	s := &senderSink{seen: map[string]int{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s.reject("read body: " + err.Error())
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		s.requests.Add(1)
		handle(s, w, r, body)
	}))
	s.srv.Listener = countingListener{Listener: s.srv.Listener, n: &s.accepted}
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			s.closed.Add(1)
		}
	}
	if tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	return s
}

// got counts one message to recipient; a request that does not carry the
// personalised text is kept as a problem.
func (s *senderSink) got(recipient string, personalised bool) {
	s.mu.Lock()
	s.seen[recipient]++
	s.mu.Unlock()
	if !personalised {
		s.reject("message to " + recipient + " lacks the recipient's name")
	}
}

func (s *senderSink) reject(problem string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bad) < 5 {
		s.bad = append(s.bad, problem)
	}
}

// check reports whether every one of want received exactly one message.
func (s *senderSink) check(want func(i int) string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var problems []string
	problems = append(problems, s.bad...)
	for i := 0; i < n && len(problems) < 10; i++ {
		if c := s.seen[want(i)]; c != 1 {
			problems = append(problems, fmt.Sprintf("%s got %d messages", want(i), c))
		}
	}
	if len(s.seen) != n && len(problems) < 10 {
		problems = append(problems, fmt.Sprintf("%d distinct recipients, want %d", len(s.seen), n))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// senderName is user i's name, the {{name}} of its message.
func senderName(i int) string { return "User " + strconv.Itoa(i) }

// senderPhone is user i's phone: distinct, valid Spanish mobiles.
func senderPhone(i int) string { return fmt.Sprintf("+346%08d", i) }

// senderToken is the path token of user i's Web Push subscription.
func senderToken(i int) string { return "sub-" + harness.UserID(i) }

// sesSink answers SES v2 SendEmail with a message id.
func sesSink() *senderSink {
	return newSenderSink(func(s *senderSink, w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path != "/v2/email/outbound-emails" {
			s.reject("ses: request to " + r.URL.Path)
		}
		// Cheap field reads, not a JSON decode: the sink shares the
		// machine with the server it measures.
		to := between(body, `"ToAddresses":["`, `"`)
		s.got(to, nameFor(to, body))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"MessageId":"bench-%d"}`, s.requests.Load())
	}, false)
}

// nameFor reports whether body greets the user of address to (u0000042@…
// is "User 42").
func nameFor(to string, body []byte) bool {
	id, _, _ := strings.Cut(to, "@")
	n, err := strconv.Atoi(strings.TrimPrefix(id, "u"))
	return err == nil && bytes.Contains(body, []byte("Hello "+senderName(n)+","))
}

// snsSink answers SNS Publish (the query protocol) with a message id.
func snsSink() *senderSink {
	return newSenderSink(func(s *senderSink, w http.ResponseWriter, r *http.Request, body []byte) {
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("Action") != "Publish" {
			s.reject(fmt.Sprintf("sns: not a Publish: %q", form.Get("Action")))
		}
		phone := form.Get("PhoneNumber")
		n, _ := strconv.Atoi(strings.TrimPrefix(phone, "+346"))
		s.got(phone, strings.Contains(form.Get("Message"), "Hello "+senderName(n)+","))
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>bench-%d</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`, s.requests.Load())
	}, false)
}

// pushSink answers Web Push POSTs with 201 and a Location. The payload is
// encrypted for the browser; the sink checks its headers, not its text.
func pushSink() *senderSink {
	return newSenderSink(func(s *senderSink, w http.ResponseWriter, r *http.Request, body []byte) {
		token, ok := strings.CutPrefix(r.URL.Path, "/push/")
		enc := r.Header.Get("Content-Encoding") == "aes128gcm" && strings.HasPrefix(r.Header.Get("Authorization"), "vapid t=")
		if !ok || !enc || len(body) < 100 {
			s.reject(fmt.Sprintf("push: %s %s, %d bytes, encoding %q", r.Method, r.URL.Path, len(body), r.Header.Get("Content-Encoding")))
		}
		s.got(token, true)
		w.Header().Set("Location", "/m/"+strconv.FormatInt(s.requests.Load(), 10))
		w.WriteHeader(http.StatusCreated)
	}, true)
}

// between is the text of b between the first from and the next to.
func between(b []byte, from, to string) string {
	_, rest, ok := bytes.Cut(b, []byte(from))
	if !ok {
		return ""
	}
	v, _, _ := bytes.Cut(rest, []byte(to))
	return string(v)
}

func benchSenderChannel(ctx context.Context, bin, ch string, o senderOptions) error {
	tmp, err := os.MkdirTemp("", "herald-bench-sender-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pprofAddr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	env := []string{
		"HERALD_PPROF_ADDR=" + pprofAddr,
		"HERALD_WORKERS=" + strconv.Itoa(senderWorkers), "HERALD_SEND_CONCURRENCY=" + strconv.Itoa(senderConcurrency),
		// The AWS SDK reads its settings from the environment: dummy
		// credentials, no shared config, no instance metadata.
		"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=AKIDBENCH", "AWS_SECRET_ACCESS_KEY=bench-secret", "AWS_SESSION_TOKEN=",
		"AWS_PROFILE=", "AWS_CONFIG_FILE=" + filepath.Join(tmp, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(tmp, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=",
	}
	var (
		sink      *senderSink
		channel   string
		recipient func(i int) string
		user      func(i int) map[string]any
		device    func(i int) string // the JSON of user i's Web Push device
	)
	switch ch {
	case "email":
		sink, channel = sesSink(), "email"
		env = append(env, "HERALD_SES_ENABLED=1", "HERALD_SES_FROM=Herald Energy <news@example.com>", "AWS_ENDPOINT_URL_SESV2="+sink.srv.URL)
		recipient = func(i int) string { return harness.UserID(i) + "@example.com" }
		user = func(i int) map[string]any {
			return map[string]any{"id": harness.UserID(i), "name": senderName(i), "email": harness.UserID(i) + "@example.com", "status": "active", "type": "client"}
		}
	case "sms":
		sink, channel = snsSink(), "sms"
		env = append(env, "HERALD_SNS_ENABLED=1", "AWS_ENDPOINT_URL_SNS="+sink.srv.URL)
		recipient = senderPhone
		user = func(i int) map[string]any {
			return map[string]any{"id": harness.UserID(i), "name": senderName(i), "phone": senderPhone(i), "status": "active", "type": "client"}
		}
	case "webpush":
		sink, channel = pushSink(), "webpush"
		pub, priv, err := webpush.GenerateVAPIDKeys()
		if err != nil {
			return err
		}
		// The server trusts the sink's certificate through SSL_CERT_FILE,
		// which replaces the system roots in the child process only.
		certFile := filepath.Join(tmp, "push-sink.pem")
		if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sink.srv.Certificate().Raw}), 0o600); err != nil {
			return err
		}
		env = append(env, "HERALD_VAPID_PUBLIC_KEY="+pub, "HERALD_VAPID_PRIVATE_KEY="+priv, "HERALD_VAPID_SUBJECT=mailto:ops@example.com",
			"HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS=1", "SSL_CERT_FILE="+certFile)
		recipient = senderToken
		user = func(i int) map[string]any {
			return map[string]any{"id": harness.UserID(i), "name": senderName(i), "status": "active", "type": "client"}
		}
		// One browser key for every subscription: the server encrypts
		// each push afresh whatever the key.
		bk, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		auth := make([]byte, 16)
		_, _ = rand.Read(auth)
		p256dh, authKey := base64.RawURLEncoding.EncodeToString(bk.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(auth)
		device = func(i int) string {
			return fmt.Sprintf(`{"kind":"webpush","subscription":{"endpoint":%q,"keys":{"p256dh":%q,"auth":%q}}}`,
				sink.srv.URL+"/push/"+senderToken(i), p256dh, authKey)
		}
	case "outbox":
		// No provider: the local outbox delivers (part local's path, with
		// this part's message and figures).
		channel = "email"
		user = func(i int) map[string]any {
			return map[string]any{"id": harness.UserID(i), "name": senderName(i), "email": harness.UserID(i) + "@example.com", "status": "active", "type": "client"}
		}
	default:
		return fmt.Errorf("no channel %q (email, sms, webpush, outbox)", ch)
	}
	if sink != nil {
		defer sink.srv.Close()
	}

	dir, err := os.MkdirTemp("", "herald-bench-data-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	p, err := harness.Start(ctx, bin, dir, addr, apikey.New(), env...)
	if err != nil {
		return err
	}
	defer p.Kill()
	t0 := time.Now()
	if err := seedSenderUsers(ctx, p, o.users, user, device); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("seeded %d users in %.1f s\n", o.users, time.Since(t0).Seconds())

	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.Pid()), []byte("5"), 0); err != nil {
		fmt.Println("note: cannot reset the peak RSS counter:", err)
	}
	cpu0, err := procCPU(p.Pid())
	if err != nil {
		return err
	}
	mem0, err := serverMallocs(pprofAddr)
	if err != nil {
		return err
	}
	var conns0 int64
	if sink != nil {
		conns0 = sink.accepted.Load()
	}
	var profile chan error
	if o.profileDir != "" {
		// The allocations of the send are those of the profile taken after
		// it less this one (go tool pprof -diff_base).
		if err := saveAllocs(pprofAddr, filepath.Join(o.profileDir, "sender-"+ch+"-allocs-before.pprof")); err != nil {
			return err
		}
		profile = make(chan error, 1)
		go func() {
			profile <- saveProfile(pprofAddr, o.profileFor, filepath.Join(o.profileDir, "sender-"+ch+".pprof"))
		}()
	}
	rss := sampleRSS(p.Pid(), 250*time.Millisecond)
	t1 := time.Now()
	ids, err := sendSenderLists(ctx, p, channel, o.users)
	if err != nil {
		return err
	}
	last, err := p.WaitCompleted(ctx, ids, 100*time.Millisecond)
	if err != nil {
		return err
	}
	cpu1, err := procCPU(p.Pid())
	if err != nil {
		return err
	}
	mem1, err := serverMallocs(pprofAddr)
	if err != nil {
		return err
	}
	hwm, err := p.PeakRSS()
	if err != nil {
		return err
	}
	anon, file := rss.stop()
	if o.profileDir != "" {
		if err := saveAllocs(pprofAddr, filepath.Join(o.profileDir, "sender-"+ch+"-allocs-after.pprof")); err != nil {
			return err
		}
	}
	elapsed := last.Sub(t1)
	n := float64(o.users)
	fmt.Printf("send to %d users: last message after %.2f s\n", o.users, elapsed.Seconds())
	fmt.Printf("throughput: %.0f msgs/s (wall clock, disturbed by a busy machine; target ≥ %s)\n", n/elapsed.Seconds(), senderTargets[ch][0])
	fmt.Printf("server CPU: %.2f s per 100,000 messages (utime+stime; target ≤ %s)\n", (cpu1-cpu0).Seconds()*100000/n, senderTargets[ch][1])
	fmt.Printf("server allocations: %.0f per message, %.1f KB per message\n", float64(mem1.count-mem0.count)/n, float64(mem1.bytes-mem0.bytes)/n/1024)
	fmt.Printf("peak memory of the server during the send: %.0f MB (target ≤ 400 for 1,000,000 recipients); sampled peaks: %.0f MB anonymous (the Go heap and runtime), %.0f MB file-backed (the store's memory-mapped file)\n",
		float64(hwm)/1e6, float64(anon)/1e6, float64(file)/1e6)
	if sink != nil {
		fmt.Printf("connections opened: %d for %d requests (%d closed meanwhile), against %d sends in flight at most (%d workers × %d)\n",
			sink.accepted.Load()-conns0, sink.requests.Load(), sink.closed.Load(), senderWorkers*senderConcurrency, senderWorkers, senderConcurrency)
	}
	if profile != nil {
		if err := <-profile; err != nil {
			fmt.Println("profile:", err)
		} else {
			fmt.Printf("cpu profile of the first %s: %s\n", o.profileFor, filepath.Join(o.profileDir, "sender-"+ch+".pprof"))
		}
	}
	if sink == nil {
		if _, err := p.VerifyExactlyOnce(ctx, ids, o.users, 0); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		fmt.Println("verified: every recipient has exactly one delivery and one outbox entry, sent once")
		return nil
	}
	if err := sink.check(recipient, o.users); err != nil {
		return fmt.Errorf("verify the fake's messages: %w", err)
	}
	_, _, all, err := p.Progress(ctx, ids)
	if err != nil {
		return err
	}
	for _, nt := range all {
		if c := nt.Counts; c.Sent != c.Total || c.Queued != 0 {
			return fmt.Errorf("notification %s counts %+v, want all sent", nt.ID, c)
		}
	}
	fmt.Println("verified: the fake got one personalised message per recipient, and every delivery is recorded sent")
	return nil
}

// seedSenderUsers upserts n users (1,000 per batch) and, for Web Push,
// registers one subscription each.
func seedSenderUsers(ctx context.Context, p *harness.Proc, n int, user func(int) map[string]any, device func(int) string) error {
	const batch = 1000
	err := parallel(4, (n+batch-1)/batch, func(b int) error {
		users := make([]map[string]any, 0, batch)
		for i := b * batch; i < min((b+1)*batch, n); i++ {
			users = append(users, user(i))
		}
		var res struct {
			Upserted int `json:"upserted"`
		}
		if err := p.Do(ctx, "POST", "/v1/users:batch", map[string]any{"users": users}, 200, &res); err != nil {
			return err
		}
		if res.Upserted != len(users) {
			return fmt.Errorf("users:batch upserted %d of %d", res.Upserted, len(users))
		}
		return nil
	})
	if err != nil || device == nil {
		return err
	}
	return parallel(8, n, func(i int) error {
		return p.Do(ctx, "POST", "/v1/users/"+harness.UserID(i)+"/devices", json.RawMessage(device(i)), 201, nil)
	})
}

// sendSenderLists sends the message on channel to users 0..n-1 in lists
// of at most 10,000 (the API's limit) and returns the notification ids.
func sendSenderLists(ctx context.Context, p *harness.Proc, channel string, n int) ([]string, error) {
	var ids []string
	for start := 0; start < n; start += 10000 {
		userIDs := make([]string, 0, 10000)
		for i := start; i < min(start+10000, n); i++ {
			userIDs = append(userIDs, harness.UserID(i))
		}
		var res struct {
			ID         string `json:"id"`
			Recipients int    `json:"recipients"`
		}
		body := map[string]any{"channel": channel, "content": map[string]any{"title": "Your energy report, {{name}}", "body": senderBody},
			"audience": map[string]any{"userIds": userIDs}}
		if err := p.Do(ctx, "POST", "/v1/notifications", body, 202, &res); err != nil {
			return ids, err
		}
		if res.Recipients != len(userIDs) {
			return ids, fmt.Errorf("send accepted %d recipients, want %d", res.Recipients, len(userIDs))
		}
		ids = append(ids, res.ID)
	}
	return ids, nil
}

// rssSampler samples a process's resident memory, anonymous and
// file-backed apart: bbolt reads its file through a shared memory map, and
// the pages it touched count in the resident set (and in VmHWM) as long as
// they stay mapped.
type rssSampler struct {
	done       chan struct{}
	stopped    chan struct{}
	anon, file int64
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{done: make(chan struct{}), stopped: make(chan struct{})}
	take := func() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return
		}
		for line := range strings.Lines(string(b)) {
			for field, peak := range map[string]*int64{"RssAnon:": &s.anon, "RssFile:": &s.file} {
				if v, ok := strings.CutPrefix(line, field); ok {
					if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
						*peak = max(*peak, kb*1024)
					}
				}
			}
		}
	}
	go func() {
		defer close(s.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			take()
			select {
			case <-s.done:
				take()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peaks, in bytes.
func (s *rssSampler) stop() (anon, file int64) {
	close(s.done)
	<-s.stopped
	return s.anon, s.file
}

// procCPU is the CPU time process pid has used, user and system, from
// /proc/<pid>/stat (clock ticks of 1/100 s, as on every Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command, which is in parentheses and may
	// contain spaces: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// mallocs is the Go runtime's count of heap allocations and their bytes
// since the process started.
type mallocs struct{ count, bytes int64 }

// serverMallocs reads the server's runtime.MemStats Mallocs and
// TotalAlloc from the text heap profile of its pprof listener.
func serverMallocs(pprofAddr string) (mallocs, error) {
	res, err := http.Get("http://" + pprofAddr + "/debug/pprof/heap?debug=1")
	if err != nil {
		return mallocs{}, err
	}
	defer res.Body.Close()
	var m mallocs
	found := 0
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "# Mallocs = "); ok {
			m.count, err = strconv.ParseInt(v, 10, 64)
			found++
		} else if v, ok := strings.CutPrefix(line, "# TotalAlloc = "); ok {
			m.bytes, err = strconv.ParseInt(v, 10, 64)
			found++
		}
		if err != nil {
			return m, err
		}
	}
	if found != 2 {
		return m, errors.New("heap profile without Mallocs and TotalAlloc")
	}
	return m, sc.Err()
}

// saveProfile writes a CPU profile of the server over d into file.
func saveProfile(pprofAddr string, d time.Duration, file string) error {
	return savePprof(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, int(d.Seconds())), file)
}

// saveAllocs writes the server's allocation profile (every allocation
// sampled since it started) into file.
func saveAllocs(pprofAddr, file string) error {
	return savePprof("http://"+pprofAddr+"/debug/pprof/allocs", file)
}

func savePprof(url, file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: status %d", res.StatusCode)
	}
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, res.Body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
