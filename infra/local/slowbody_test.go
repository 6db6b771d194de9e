package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// paceServer answers 200 with the number of bytes read, or 400 when the
// body could not be read whole.
func paceServer(t *testing.T, grace, idle time.Duration, rate int64) *httptest.Server {
	t.Helper()
	h := &bodyPace{Grace: grace, Idle: idle, MinRate: rate, Now: time.Now, Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, n)
	})}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// trickle sends a POST of size bytes, one byte per step, and returns the
// status and how many bytes it got to send before the answer came.
func trickle(t *testing.T, srv *httptest.Server, size int, step time.Duration) (status, sent int) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
	answered := make(chan int, 1)
	go func() {
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- 0
			return
		}
		answered <- res.StatusCode
	}()
	for sent = 0; sent < size; sent++ {
		select {
		case status := <-answered:
			return status, sent
		case <-time.After(step):
		}
		if _, err := conn.Write([]byte("x")); err != nil {
			return <-answered, sent
		}
	}
	return <-answered, sent
}

func TestSlowBodiesAreCutOff(t *testing.T) {
	// A body trickling at 20 bytes/s, under the 1,000 bytes/s minimum, is
	// cut off after the grace period, long before its 400 bytes are in.
	srv := paceServer(t, 200*time.Millisecond, 5*time.Second, 1000)
	if status, sent := trickle(t, srv, 400, 50*time.Millisecond); status != http.StatusBadRequest || sent >= 400 {
		t.Errorf("trickled body: status %d after %d of 400 bytes; want 400 before the end", status, sent)
	}
	// A pause longer than Idle ends it too, whatever the rate allows.
	srv = paceServer(t, time.Hour, 100*time.Millisecond, 1)
	if status, sent := trickle(t, srv, 3, 400*time.Millisecond); status != http.StatusBadRequest || sent >= 3 {
		t.Errorf("paused body: status %d after %d of 3 bytes; want 400 before the end", status, sent)
	}
	// A body that keeps pace is read whole.
	srv = paceServer(t, 200*time.Millisecond, time.Second, 1000)
	res, err := http.Post(srv.URL, "text/plain", strings.NewReader(strings.Repeat("x", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != fmt.Sprint(1<<20) {
		t.Errorf("fast body = %d %q, want 200 and every byte", res.StatusCode, b)
	}
}
