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
	var probe *url.URL
	port := ""
	if in.SmokeURL != "" {
		u, err := url.Parse(in.SmokeURL)
		if err != nil {
			r.err = fmt.Errorf("smoke-url %q: %w", in.SmokeURL, err)
			return r
		}
		probe, port = u, u.Port()
		if port == "" {
			port = map[string]string{"https": "443"}[u.Scheme]
			if port == "" {
				port = "80"
			}
		}
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "scribe-smoke-" + hex.EncodeToString(b)
	args := []string{"run", "--detach", "--name", name, "--platform", hostPlatform()}
	if port != "" {
		args = append(args, "--publish", "127.0.0.1::"+port)
	}
	if _, err := d.output(ctx, append(args, image)...); err != nil {
		r.err = err
		d.output(context.Background(), "rm", "--force", name)
		return r
	}
	defer d.output(context.Background(), "rm", "--force", name)

	deadline := time.Now().Add(in.SmokeTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	last := ""
	for {
		state, err := d.output(ctx, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", name)
		if err != nil {
			r.err = err
			break
		}
		f := strings.Fields(state)
		status, exit, health := f[0], f[1], ""
		if len(f) > 2 {
			health = f[2]
		}
		if status == "exited" || status == "dead" {
			r.err = fmt.Errorf("the container exited with code %s", exit)
			break
		}
		switch {
		case probe != nil:
			r.how = fmt.Sprintf("%s answered %d", in.SmokeURL, in.SmokeStatus)
			hostPort, err := d.output(ctx, "port", name, port+"/tcp")
			if err == nil {
				u := *probe
				u.Host = strings.TrimSpace(strings.Split(hostPort, "\n")[0])
				u.Scheme = "http"
				if resp, err := client.Get(u.String()); err == nil {
					resp.Body.Close()
					if resp.StatusCode == in.SmokeStatus {
						return r
					}
					last = fmt.Sprintf("; it answered %d, want %d", resp.StatusCode, in.SmokeStatus)
				} else {
					last = "; " + err.Error()
				}
			}
		case health != "":
			r.how = "the HEALTHCHECK passed"
			if health == "healthy" {
				return r
			}
			if health == "unhealthy" {
				r.err = fmt.Errorf("the HEALTHCHECK reports unhealthy")
			}
		default:
			r.how = "the container stayed up for 5s (no HEALTHCHECK, no smoke-url)"
			if time.Since(start) > 5*time.Second {
				return r
			}
		}
		if r.err != nil {
			break
		}
		if time.Now().After(deadline) {
			r.err = fmt.Errorf("not ready within %s%s", in.SmokeTimeout, last)
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if logs, err := d.outputAll(context.Background(), "logs", "--tail", "30", name); err == nil {
		r.logTail = strings.TrimSpace(logs)
	}
	return r
}
