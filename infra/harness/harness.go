// Package harness drives a real local Herald process for end-to-end tests
// and benchmarks: it builds and starts the local server, talks to its API,
// loads users, sends, waits for the end, and checks that every recipient got
// exactly one delivery. It can kill the process with SIGKILL mid-send.
package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles the local server into dir and returns the binary's path.
func Build(ctx context.Context, moduleRoot, dir string) (string, error) {
	bin := filepath.Join(dir, "herald-local")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./infra/local")
	cmd.Dir = moduleRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./infra/local: %v\n%s", err, out)
	}
	return bin, nil
}

// ModuleRoot finds the directory of go.mod above the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

// Proc is a running local server.
type Proc struct {
	cmd  *exec.Cmd
	Base string
	Key  string
	logs *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// FreeAddr returns a loopback address with a free port.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start runs bin with its data in dataDir on addr, with key as the admin
// key, and waits until it answers.
func Start(ctx context.Context, bin, dataDir, addr, key string, extraEnv ...string) (*Proc, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "HERALD_ADDR="+addr, "HERALD_DATA_DIR="+dataDir, "HERALD_API_KEY="+key, "HERALD_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, extraEnv...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, Base: "http://" + addr, Key: key, logs: logs, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("herald exited at start: %v\n%s", p.err, logs.String())
		default:
		}
		if res, err := http.Get(p.Base + "/v1/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Kill()
	return nil, fmt.Errorf("herald did not answer on %s within 30 s", addr)
}

// Logs returns what the process logged so far (warnings and errors).
func (p *Proc) Logs() string { return p.logs.String() }

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Kill stops the process with SIGKILL, as a crash would, and waits for it.
// Killing a process that has exited does nothing.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop stops the process with SIGTERM and waits for it.
func (p *Proc) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(20 * time.Second):
		p.Kill()
		return errors.New("herald did not stop within 20 s of SIGTERM")
	}
}

// PeakRSS is the process's peak resident memory in bytes (VmHWM), read while
// it runs.
func (p *Proc) PeakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("VmHWM not found")
}

// Do calls the API and decodes a JSON answer into out (when not nil). A
// status other than want is an error carrying the body.
func (p *Proc) Do(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.Base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.Key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// UserID is the id SeedUsers gives user i.
func UserID(i int) string { return fmt.Sprintf("u%07d", i) }

// SeedUsers upserts n users (1,000 per batch, a few batches at once), each
// with an email, so that an email send reaches all of them.
func (p *Proc) SeedUsers(ctx context.Context, n int) error {
	const batch = 1000
	sem := make(chan struct{}, 4)
	errs := make(chan error, n/batch+1)
	var wg sync.WaitGroup
	for start := 0; start < n; start += batch {
		users := make([]map[string]any, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			users = append(users, map[string]any{"id": UserID(i), "name": "User " + strconv.Itoa(i), "email": UserID(i) + "@example.com", "status": "active", "type": "client"})
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var res struct {
				Upserted int `json:"upserted"`
			}
			if err := p.Do(ctx, "POST", "/v1/users:batch", map[string]any{"users": users}, 200, &res); err != nil {
				errs <- err
				return
			}
			if res.Upserted != len(users) {
				errs <- fmt.Errorf("users:batch upserted %d of %d", res.Upserted, len(users))
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// SendLists sends an email to users 0..n-1 in lists of at most 10,000 (the
// API's limit per request) and returns the notification ids.
func (p *Proc) SendLists(ctx context.Context, n int) ([]string, error) {
	var ids []string
	for start := 0; start < n; start += 10000 {
		userIDs := make([]string, 0, 10000)
		for i := start; i < min(start+10000, n); i++ {
			userIDs = append(userIDs, UserID(i))
		}
		var res struct {
			ID         string `json:"id"`
			Recipients int    `json:"recipients"`
		}
		body := map[string]any{"channel": "email", "content": map[string]any{"title": "Bench {{name}}", "body": "Hello {{name}}"}, "audience": map[string]any{"userIds": userIDs}}
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

// Counts is a notification's counts.
type Counts struct {
	Total, Queued, Sent, Delivered, Read, Failed, Skipped int64
}

// Notification is the part of GET /v1/notifications/{id} the harness reads.
type Notification struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Counts    Counts    `json:"counts"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Progress sums the counts of the notifications.
func (p *Proc) Progress(ctx context.Context, ids []string) (done, total int64, all []Notification, err error) {
	for _, id := range ids {
		var n Notification
		if err := p.Do(ctx, "GET", "/v1/notifications/"+id, nil, 200, &n); err != nil {
			return 0, 0, nil, err
		}
		all = append(all, n)
		total += n.Counts.Total
		done += n.Counts.Total - n.Counts.Queued
	}
	return done, total, all, nil
}

// WaitCompleted polls until every notification is completed and returns
// when the last one completed, by the server's clock (its updatedAt), so the
// poll interval does not blur the measurement.
func (p *Proc) WaitCompleted(ctx context.Context, ids []string, poll time.Duration) (time.Time, error) {
	for {
		_, _, all, err := p.Progress(ctx, ids)
		if err != nil {
			return time.Time{}, err
		}
		finished := true
		var last time.Time
		for _, n := range all {
			if n.Status != "completed" {
				finished = false
			}
			if n.UpdatedAt.After(last) {
				last = n.UpdatedAt
			}
		}
		if finished {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("waiting for completion: %w", ctx.Err())
		case <-time.After(poll):
		}
	}
}

// VerifyExactlyOnce checks that each of the n users has exactly one
// delivered delivery across the notifications and exactly one outbox entry
// per notification, and that every notification's counts add up. It
// returns how many messages reached the outbox more than once (which a
// real provider would have sent twice) and fails when there are more than
// maxResends.
func (p *Proc) VerifyExactlyOnce(ctx context.Context, ids []string, n, maxResends int) (int, error) {
	deliveries := map[string]int{}
	for _, id := range ids {
		cursor := ""
		for {
			var page struct {
				Items []struct {
					UserID string `json:"userId"`
					Status string `json:"status"`
				} `json:"items"`
				NextCursor string `json:"nextCursor"`
			}
			if err := p.Do(ctx, "GET", "/v1/notifications/"+id+"/deliveries?limit=500&cursor="+cursor, nil, 200, &page); err != nil {
				return 0, err
			}
			for _, d := range page.Items {
				if d.Status != "delivered" {
					return 0, fmt.Errorf("delivery of %s is %s, want delivered", d.UserID, d.Status)
				}
				deliveries[d.UserID]++
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
	}
	outbox := map[string]int{}
	resends := 0
	cursor := ""
	for {
		var page struct {
			Items []struct {
				UserID         string `json:"userId"`
				NotificationID string `json:"notificationId"`
				Attempts       int    `json:"attempts"`
			} `json:"items"`
			NextCursor string `json:"nextCursor"`
		}
		if err := p.Do(ctx, "GET", "/v1/outbox?channel=email&limit=500&cursor="+cursor, nil, 200, &page); err != nil {
			return 0, err
		}
		for _, e := range page.Items {
			outbox[e.NotificationID+"/"+e.UserID]++
			if e.Attempts > 1 {
				resends++
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	var problems []string
	for i := 0; i < n; i++ {
		if c := deliveries[UserID(i)]; c != 1 {
			problems = append(problems, fmt.Sprintf("%s has %d deliveries", UserID(i), c))
		}
	}
	if len(outbox) != n {
		problems = append(problems, fmt.Sprintf("outbox has %d distinct deliveries, want %d", len(outbox), n))
	}
	for k, c := range outbox {
		if c != 1 {
			problems = append(problems, fmt.Sprintf("outbox has %s %d times", k, c))
		}
	}
	if resends > maxResends {
		problems = append(problems, fmt.Sprintf("%d messages were handed to the outbox more than once, more than the %d allowed", resends, maxResends))
	}
	_, _, all, err := p.Progress(ctx, ids)
	if err != nil {
		return 0, err
	}
	for _, nt := range all {
		c := nt.Counts
		if c.Queued != 0 || c.Delivered != c.Total || c.Sent+c.Failed+c.Skipped+c.Read != 0 {
			problems = append(problems, fmt.Sprintf("notification %s counts %+v", nt.ID, c))
		}
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("… %d more", len(problems)-10))
		}
		return resends, errors.New(strings.Join(problems, "; "))
	}
	return resends, nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
