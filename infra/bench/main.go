// Command bench measures Herald and prints its figures (it asserts nothing;
// the targets live in the issues):
//
//   - local: a 100,000-recipient list send on the embedded default, from the
//     first API call to the last delivery in the outbox: deliveries per
//     second and the server's peak memory;
//   - crash: the same send killed with SIGKILL midway and restarted, then
//     checked: every recipient exactly once;
//   - aws: the AWS adapters against the emulators (HERALD_TEST_DYNAMODB_ENDPOINT,
//     HERALD_TEST_SQS_ENDPOINT): SQS requests per 1,000 recipients, DynamoDB
//     write units per recipient on the send path, and how the delivery writes
//     spread over partition keys;
//   - audience: a filter send of 100,000 users resolved in process on the
//     embedded adapters (bbolt store and queues): the count, then the walk
//     of the 16 segments on 16 goroutines, until the last dispatch message
//     is enqueued;
//   - ingest: a 100,000-row CSV and a 100,000-row XLSX send ingested in
//     process on the embedded adapters (bbolt, blob directory): validated
//     and queued, rows per second;
//   - ingest1m: the peak memory (process RSS and Go heap) of ingesting a
//     1,000,000-row CSV, in a process of its own;
//   - aws-audience: the filter send's count and walk on the AWS adapters
//     against the emulators: SQS requests and DynamoDB read units per 1,000
//     recipients resolved, measured next to the arithmetic;
//   - console: the operator console's pages on the local server with
//     100,000 users and 10,000 notifications, signed in as an admin: each
//     page's median and p95 time and its bytes, next to the budget
//     (≤ 150 ms, ≤ 150 KB);
//   - bill: what a send costs on AWS per 1,000,000 recipients, component by
//     component, from a list send measured on the emulators with every
//     function in process (bill.go), beside a naive design's.
//   - coldstart: each Lambda function's bootstrap started as Lambda starts
//     it, against a fake Runtime API: init and first invocation (coldstart.go).
//   - sender: the real sender path of the local server with each channel's
//     provider pointed at an in-process fake (SES v2, SNS, a Web Push
//     service), and the local outbox: msgs/s, the server's CPU seconds and
//     allocations per message, peak RSS and connections opened
//     (sender.go).
//
// `make bench` runs it; -only picks parts, -users and the other size flags
// size them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/apikey"
)

func main() {
	users := flag.Int("users", 100000, "recipients of the local sends")
	awsUsers := flag.Int("aws-users", 2000, "recipients of the send against the emulators")
	audienceUsers := flag.Int("audience-users", 100000, "users of the in-process filter send (part audience)")
	ingestRows := flag.Int("ingest-rows", 100000, "rows of each spreadsheet of part ingest")
	ingest1mRows := flag.Int("ingest1m-rows", 1000000, "rows of the spreadsheet of part ingest1m")
	awsAudienceUsers := flag.Int("aws-audience-users", 10000, "users of the filter send against the emulators (part aws-audience)")
	consoleUsers := flag.Int("console-users", 100000, "users of part console")
	consoleSends := flag.Int("console-sends", 10000, "notifications of part console")
	consoleSamples := flag.Int("console-samples", 20, "timed requests per page of part console, after 2 warm-ups")
	consoleProfile := flag.String("console-profile", "", "part console: write a CPU profile of the server for each page over its time budget into this directory")
	billUsers := flag.Int("bill-users", 10000, "recipients of part bill's send (a multiple of 10,000, the API's list size, keeps per-notification costs in proportion)")
	billEvents := flag.Int("bill-events", 2000, "SES delivery events part bill puts through the callbacks function")
	only := flag.String("only", "local,crash,aws,audience,ingest,ingest1m,aws-audience,console,sender,bill,coldstart", "comma-separated parts to run: local, crash, aws, audience, ingest, ingest1m, aws-audience, console, sender, bill, coldstart")
	coldRuns := flag.Int("coldstart-runs", 5, "timed cold starts per function of part coldstart, after a warm-up")
	senderUsers := flag.Int("sender-users", 100000, "recipients of each channel's send of part sender")
	senderChannels := flag.String("sender-channels", "email,sms,webpush,outbox", "part sender: the channels to send on (email, sms, webpush; outbox is email through the local outbox)")
	senderProfile := flag.String("sender-profile", "", "part sender: write a CPU profile of the server over the start of each send into this directory")
	senderProfileFor := flag.Duration("sender-profile-for", 5*time.Second, "part sender: how long each CPU profile lasts")
	walkBudget := flag.Duration("walk-budget", 0, "how long an audience step walks before handing over (0: the Walker's default, 10 s); parts audience and aws-audience")
	child := flag.String("child", "", "internal: run this part's measurement in this process (ingest1m)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the in-process parts to this file")
	flag.Parse()
	ctx := context.Background()
	if *child != "" {
		if err := runChild(ctx, *child, *ingest1mRows); err != nil {
			fmt.Printf("%s: FAILED: %v\n", *child, err)
			os.Exit(1)
		}
		return
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Println("cpu profile:", err)
			os.Exit(1)
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		// Wall-clock figures stretch on a busy machine: say how busy.
		fmt.Printf("machine: %d CPUs, load average %s\n", runtime.NumCPU(), strings.Join(strings.Fields(string(b))[:3], " "))
	}
	parts := map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		parts[strings.TrimSpace(p)] = true
	}
	failed := false
	run := func(name string, f func() error) {
		if !parts[name] {
			return
		}
		fmt.Printf("== %s\n", name)
		if err := f(); err != nil {
			fmt.Printf("%s: FAILED: %v\n", name, err)
			failed = true
		}
	}
	var bin string
	if parts["local"] || parts["crash"] || parts["console"] || parts["sender"] {
		root, err := harness.ModuleRoot()
		if err == nil {
			var dir string
			if dir, err = os.MkdirTemp("", "herald-bench-"); err == nil {
				defer os.RemoveAll(dir)
				bin, err = harness.Build(ctx, root, dir)
			}
		}
		if err != nil {
			// The other parts do not need the server: they still run.
			fmt.Println("build:", err)
			fmt.Println("local, crash, console, sender: FAILED: the local server does not build")
			failed = true
			parts["local"], parts["crash"], parts["console"], parts["sender"] = false, false, false, false
		}
	}
	run("local", func() error { return benchLocal(ctx, bin, *users) })
	run("crash", func() error { return benchCrash(ctx, bin, *users) })
	run("aws", func() error { return benchAWS(ctx, *awsUsers) })
	run("audience", func() error { return benchAudience(ctx, *audienceUsers, walkOptions{budget: *walkBudget}) })
	run("ingest", func() error { return benchIngest(ctx, *ingestRows) })
	run("ingest1m", func() error { return benchIngest1M(ctx, *ingest1mRows) })
	run("aws-audience", func() error { return benchAWSAudience(ctx, *awsAudienceUsers, walkOptions{budget: *walkBudget}) })
	run("console", func() error {
		return benchConsole(ctx, bin, consoleOptions{users: *consoleUsers, sends: *consoleSends, samples: *consoleSamples, profileDir: *consoleProfile})
	})
	run("bill", func() error { return benchBill(ctx, billOptions{users: *billUsers, events: *billEvents}) })
	run("coldstart", func() error { return benchColdStart(ctx, *coldRuns) })
	run("sender", func() error {
		return benchSender(ctx, bin, senderOptions{users: *senderUsers, channels: strings.Split(*senderChannels, ","), profileDir: *senderProfile, profileFor: *senderProfileFor})
	})
	pprof.StopCPUProfile()
	if failed {
		os.Exit(1)
	}
}

// runChild runs the measurement of a part that needs a process of its own.
func runChild(ctx context.Context, part string, rows int) error {
	switch part {
	case "ingest1m":
		return ingest1MChild(ctx, rows)
	case "coldstart-roots":
		return coldRootsChild()
	}
	return fmt.Errorf("no part %q runs as a child", part)
}

// cpuTime is the CPU time this process has used, user and system: next to
// a wall-clock figure it tells waiting (or a busy machine) from work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// start runs a fresh local server with its data in a new temporary dir.
func start(ctx context.Context, bin string) (*harness.Proc, string, func(), error) {
	dir, err := os.MkdirTemp("", "herald-bench-data-")
	if err != nil {
		return nil, "", nil, err
	}
	addr, err := harness.FreeAddr()
	if err != nil {
		return nil, "", nil, err
	}
	p, err := harness.Start(ctx, bin, dir, addr, apikey.New())
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	return p, dir, func() { p.Kill(); os.RemoveAll(dir) }, nil
}

func benchLocal(ctx context.Context, bin string, users int) error {
	p, _, cleanup, err := start(ctx, bin)
	if err != nil {
		return err
	}
	defer cleanup()
	t0 := time.Now()
	if err := p.SeedUsers(ctx, users); err != nil {
		return err
	}
	fmt.Printf("seeded %d users in %.1f s (users:batch, 1,000 per request)\n", users, time.Since(t0).Seconds())
	// Peak memory is measured from here: the send, not the seeding.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.Pid()), []byte("5"), 0); err != nil {
		fmt.Println("note: cannot reset the peak RSS counter:", err)
	}
	t1 := time.Now()
	ids, err := p.SendLists(ctx, users)
	if err != nil {
		return err
	}
	accepted := time.Since(t1)
	last, err := p.WaitCompleted(ctx, ids, 250*time.Millisecond)
	if err != nil {
		return err
	}
	elapsed := last.Sub(t1)
	rss, err := p.PeakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("list send to %d users (%d requests of ≤10,000 user ids): accepted in %.2f s, last delivery after %.2f s\n", users, len(ids), accepted.Seconds(), elapsed.Seconds())
	fmt.Printf("throughput: %.0f deliveries/s (target ≥ 50,000, the local outbox path's)\n", float64(users)/elapsed.Seconds())
	memTarget := "≤ 300 MB at 100,000 recipients"
	if users >= 1000000 {
		memTarget = "≤ 400 MB at 1,000,000 recipients"
	}
	fmt.Printf("peak memory of the server during the send: %.0f MB (target %s)\n", float64(rss)/1e6, memTarget)
	if _, err := p.VerifyExactlyOnce(ctx, ids, users, 0); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Println("verified: every recipient has exactly one delivery and one outbox entry, sent once")
	return nil
}

func benchCrash(ctx context.Context, bin string, users int) error {
	p, dir, cleanup, err := start(ctx, bin)
	if err != nil {
		return err
	}
	defer func() { cleanup() }()
	if err := p.SeedUsers(ctx, users); err != nil {
		return err
	}
	ids, err := p.SendLists(ctx, users)
	if err != nil {
		return err
	}
	var doneAtKill int64
	for {
		done, total, _, err := p.Progress(ctx, ids)
		if err != nil {
			return err
		}
		if done >= total/3 {
			doneAtKill = done
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.Kill()
	fmt.Printf("killed with SIGKILL after %d of %d deliveries\n", doneAtKill, users)
	addr := strings.TrimPrefix(p.Base, "http://")
	t0 := time.Now()
	p2, err := harness.Start(ctx, bin, dir, addr, p.Key)
	if err != nil {
		return err
	}
	cleanup = func() { p2.Kill(); os.RemoveAll(dir) }
	if _, err := p2.WaitCompleted(ctx, ids, 100*time.Millisecond); err != nil {
		return err
	}
	fmt.Printf("restarted; the rest finished %.2f s after the restart\n", time.Since(t0).Seconds())
	// Sends in flight at the kill (4 workers × 32 at a time) may have been
	// handed to the outbox twice: sent, but not yet recorded.
	resends, err := p2.VerifyExactlyOnce(ctx, ids, users, 4*32)
	if err != nil {
		return fmt.Errorf("verify after crash: %w", err)
	}
	fmt.Printf("verified: all %d recipients have exactly one delivery, none lost; %d in flight at the kill were handed to the outbox twice (which dedupes them)\n", users, resends)
	return nil
}
