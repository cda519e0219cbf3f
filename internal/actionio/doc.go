// Package actionio is how every scribe-actions action talks to its runner: typed inputs with clear errors,
// outputs, step summaries, masks and log groups, the same on a GitHub runner and in a terminal.
//
// An action declares its inputs and outputs once, in a Spec bound to the fields of its own struct. The
// action.yml, the command-line flags, the --help text and the README's tables are all derived from that one
// declaration, so they cannot drift apart; a test fails when a committed file disagrees with it.
//
// Main resolves each input from its flag, else the INPUT_ variable under the runner's own name
// (INPUT_TAG-SUFFIX), else under the name action.yml passes (INPUT_TAG_SUFFIX), else its default. Both
// variable names are read because dash, /bin/sh on Debian and Ubuntu runners, drops hyphenated names from
// the environment of what it runs. A default that is a ${{ }} expression (the job's token) is action.yml's
// alone: the runner evaluates it and passes the value as an INPUT_ variable, and the binary, which cannot,
// sees no default outside a runner. Every bad input is reported, one line each naming the input, its text and
// what is allowed, and the action does not run when any is bad: a typo never leaves half a release behind.
// Secrets are masked before anything can log them, and a multi-line secret line by line too, because the
// runner matches masks within one line.
//
// A Step speaks the workflow-command protocol on a runner (GITHUB_ACTIONS=true) and prints outputs as
// name=value and the summary as text in a terminal; the runner toolkit panics when GITHUB_OUTPUT is unset,
// so terminal mode never hands it an output. Only declared outputs can be set. Main takes its environment,
// writers and arguments as values and returns an exit code, so that tests run actions in process as a runner
// would, and ParseOutputFile reads back what they wrote to GITHUB_OUTPUT as the runner reads it.
package actionio
