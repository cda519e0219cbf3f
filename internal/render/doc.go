// Package render turns a repository's scribe.yaml into its GitHub workflows, one per service plus the
// workflow that validates them, and keeps the committed files honest: `gen-workflows render` writes them,
// `gen-workflows check` fails with a diff when they differ from what the config renders.
//
// The config is read strictly: an unknown key is an error naming its file, line and the closest valid key,
// because a misspelt key would otherwise render a workflow that silently lacks the setting. Values the user
// writes may not hold ${{ }} expressions (only image may), and a ${{ }} that a template puts inside a run:
// script is refused even where actionlint lets it pass: a value pasted into a shell script is script
// injection, so values reach scripts through env: only.
//
// Rendering is a pure function of the config, the templates and the lock file: the same inputs give
// byte-identical files (a service's weekly cron slot comes from a hash of its name, not from chance or the
// clock), which is what lets check compare bytes and the golden tests hold. Every third-party action is
// pinned to the full commit SHA the lock file names, with its version as a comment; an action missing from
// the lock file fails the render rather than falling back to a tag. Nothing is written that does not pass
// the actionlint library: check and render fail on the same findings.
//
// Templates use [[ ]] delimiters so the workflows' own ${{ }} expressions pass through as written. A user
// may bring their own templates (--templates); they read the same view of a service as the embedded ones,
// so the view's field names are part of the contract.
package render
