package actionio

import (
	"fmt"
	"io"
	"slices"
	"strings"

	githubactions "github.com/sethvargo/go-githubactions"
)

// Step is a running action: where its outputs, summary and log lines go. On a runner it speaks the
// workflow-command protocol; in a terminal it prints outputs as name=value and the summary as plain text.
type Step struct {
	// Action is the runner toolkit, for the GitHub context, environment and OIDC token.
	Action *githubactions.Action

	spec   *Spec
	runner bool
	stdout io.Writer
	stderr io.Writer
}

// OnRunner reports whether the step runs on a GitHub Actions runner (GITHUB_ACTIONS=true).
func (s *Step) OnRunner() bool { return s.runner }

// SetOutput sets a declared output: to GITHUB_OUTPUT on a runner, as a name=value line in a terminal.
func (s *Step) SetOutput(name, value string) error {
	if !slices.ContainsFunc(s.spec.Outputs, func(o Output) bool { return o.Name == name }) {
		return fmt.Errorf("output %q is not declared by action %s", name, s.spec.Name)
	}
	if s.runner {
		s.Action.SetOutput(name, value)
		return nil
	}
	_, err := fmt.Fprintf(s.stdout, "%s=%s\n", name, value)
	return err
}

// Summary appends markdown to the step summary: GITHUB_STEP_SUMMARY on a runner, readable text on stderr
// in a terminal.
func (s *Step) Summary(markdown string) error {
	if s.runner && s.Action.Getenv("GITHUB_STEP_SUMMARY") != "" {
		s.Action.AddStepSummary(markdown)
		return nil
	}
	_, err := io.WriteString(s.stderr, RenderText(markdown))
	return err
}

// Group runs fn with its log lines folded under title on a runner (a heading in a terminal).
func (s *Step) Group(title string, fn func() error) error {
	if s.runner {
		s.Action.Group(title)
		defer s.Action.EndGroup()
	} else {
		fmt.Fprintf(s.stderr, "── %s\n", title)
	}
	return fn()
}

// Infof logs a line.
func (s *Step) Infof(format string, args ...any) {
	fmt.Fprintf(s.stdout, format+"\n", args...)
}

// Warningf logs a warning annotation.
func (s *Step) Warningf(format string, args ...any) {
	if s.runner {
		s.Action.Warningf(format, args...)
		return
	}
	fmt.Fprintf(s.stderr, "warning: "+format+"\n", args...)
}

// Debugf logs a line shown only when step debug logging is on (ACTIONS_STEP_DEBUG, or SCRIBE_DEBUG=1 locally).
func (s *Step) Debugf(format string, args ...any) {
	if s.runner {
		s.Action.Debugf(format, args...)
		return
	}
	if s.Action.Getenv("SCRIBE_DEBUG") == "1" {
		fmt.Fprintf(s.stderr, "debug: "+format+"\n", args...)
	}
}

// Stdout is where the action's own log output goes (a tool's progress, for one).
func (s *Step) Stdout() io.Writer { return s.stdout }

// Stderr is where diagnostics go.
func (s *Step) Stderr() io.Writer { return s.stderr }

// Mask registers a secret with the runner so no log line shows it. Multi-line secrets (private keys) are
// masked line by line too, because the runner matches masks within one line.
func (s *Step) Mask(secret string) {
	if !s.runner || secret == "" {
		return
	}
	s.Action.AddMask(secret)
	if strings.Contains(secret, "\n") {
		for _, line := range strings.Split(secret, "\n") {
			if line = strings.TrimSpace(line); len(line) > 3 {
				s.Action.AddMask(line)
			}
		}
	}
}

// errorf reports a failure: one ::error:: line on a runner (with a title when given), "error: ..." in a terminal.
func (s *Step) errorf(title, format string, args ...any) {
	if s.runner {
		a := s.Action
		if title != "" {
			a = a.WithFieldsMap(map[string]string{"title": title})
		}
		a.Errorf(format, args...)
		return
	}
	fmt.Fprintf(s.stderr, "error: "+format+"\n", args...)
}
