package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type smokeResult struct {
	image   string
	how     string // what was waited for
	took    time.Duration
	err     error
	logTail string
}

func (r *smokeResult) summary() string {
	if r.err == nil {
		return fmt.Sprintf("Passed: %s after %s.", r.how, r.took.Round(100*time.Millisecond))
	}
	s := fmt.Sprintf("**Failed**: %v.", r.err)
	if r.logTail != "" {
		s += "\n\n```\n" + r.logTail + "\n```"
	}
	return s
}

// smokeTest runs the image for the runner's platform and waits, within the timeout, for the smoke URL to
// answer the expected status, else for the HEALTHCHECK to pass, else for the container to stay up. The
// container is always removed; on failure its last log lines are kept.
func smokeTest(ctx context.Context, d docker, image string, in *Inputs) *smokeResult {
	r := &smokeResult{image: image}
	start := time.Now()
	defer func() { r.took = time.Since(start) }()
	ctx, cancel := context.WithTimeout(ctx, in.SmokeTimeout+30*time.Second)
	defer cancel()
	if strings.Contains(image, "@") {
		if _, err := d.output(ctx, "pull", "--platform", hostPlatform(), image); err != nil {
			r.err = err
			return r
		}
	}
	c := &smokeContainer{d: d, in: in, start: start, client: &http.Client{Timeout: 2 * time.Second}}
	if r.err = c.parseURL(); r.err != nil {
		return r
	}
	if r.err = c.run(ctx, image); r.err != nil {
		return r
	}
	defer d.output(context.Background(), "rm", "--force", c.name)
	if r.err = c.wait(ctx, r); r.err != nil {
		if logs, err := d.outputAll(context.Background(), "logs", "--tail", "30", c.name); err == nil {
			r.logTail = strings.TrimSpace(logs)
		}
	}
	return r
}

// smokeContainer is the container a smoke test runs, and how it is probed.
type smokeContainer struct {
	d      docker
	in     *Inputs
	start  time.Time
	client *http.Client
	name   string
	probe  *url.URL // smoke-url; nil without one
	port   string   // the container port smoke-url names, published on 127.0.0.1
}

// parseURL reads smoke-url and the container port it names (80 or 443 by default).
func (c *smokeContainer) parseURL() error {
	if c.in.SmokeURL == "" {
		return nil
	}
	u, err := url.Parse(c.in.SmokeURL)
	if err != nil {
		return fmt.Errorf("smoke-url %q: %w", c.in.SmokeURL, err)
	}
	c.probe, c.port = u, u.Port()
	if c.port == "" {
		c.port = map[string]string{"https": "443"}[u.Scheme]
		if c.port == "" {
			c.port = "80"
		}
	}
	return nil
}

// run starts the container under a fresh name; one that fails to start is removed at once.
func (c *smokeContainer) run(ctx context.Context, image string) error {
	b := make([]byte, 4)
	rand.Read(b)
	c.name = "scribe-smoke-" + hex.EncodeToString(b)
	args := []string{"run", "--detach", "--name", c.name, "--platform", hostPlatform()}
	if c.port != "" {
		args = append(args, "--publish", "127.0.0.1::"+c.port)
	}
	if _, err := c.d.output(ctx, append(args, image)...); err != nil {
		c.d.output(context.Background(), "rm", "--force", c.name)
		return err
	}
	return nil
}

// wait checks the container every 300ms until it is ready, fails, or the timeout passes; r.how says what was
// waited for.
func (c *smokeContainer) wait(ctx context.Context, r *smokeResult) error {
	deadline := time.Now().Add(c.in.SmokeTimeout)
	last := "" // what the last probe saw, for the timeout's message
	for {
		ready, saw, err := c.check(ctx, r)
		if ready || err != nil {
			return err
		}
		if saw != "" {
			last = saw
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %s%s", c.in.SmokeTimeout, last)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// check looks at the container once: ready, failed for good (err), or not yet (saw says why, when a probe ran).
func (c *smokeContainer) check(ctx context.Context, r *smokeResult) (ready bool, saw string, err error) {
	state, err := c.d.output(ctx, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", c.name)
	if err != nil {
		return false, "", err
	}
	f := strings.Fields(state)
	status, exit, health := f[0], f[1], ""
	if len(f) > 2 {
		health = f[2]
	}
	if status == "exited" || status == "dead" {
		return false, "", fmt.Errorf("the container exited with code %s", exit)
	}
	switch {
	case c.probe != nil:
		r.how = fmt.Sprintf("%s answered %d", c.in.SmokeURL, c.in.SmokeStatus)
		ready, saw = c.probeOnce(ctx)
		return ready, saw, nil
	case health != "":
		r.how = "the HEALTHCHECK passed"
		if health == "unhealthy" {
			return false, "", fmt.Errorf("the HEALTHCHECK reports unhealthy")
		}
		return health == "healthy", "", nil
	default:
		r.how = "the container stayed up for 5s (no HEALTHCHECK, no smoke-url)"
		return time.Since(c.start) > 5*time.Second, "", nil
	}
}

// probeOnce asks smoke-url once, through the port docker published; saw is what it answered.
func (c *smokeContainer) probeOnce(ctx context.Context) (ready bool, saw string) {
	hostPort, err := c.d.output(ctx, "port", c.name, c.port+"/tcp")
	if err != nil {
		return false, ""
	}
	u := *c.probe
	u.Host = strings.TrimSpace(strings.Split(hostPort, "\n")[0])
	u.Scheme = "http"
	resp, err := c.client.Get(u.String())
	if err != nil {
		return false, "; " + err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode == c.in.SmokeStatus {
		return true, ""
	}
	return false, fmt.Sprintf("; it answered %d, want %d", resp.StatusCode, c.in.SmokeStatus)
}
