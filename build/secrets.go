package build

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// secret is one build secret as buildx gets it: from a file or from the environment, never on its command
// line. Exactly one of value, file and env is set.
type secret struct {
	id    string
	value string // secrets and github-token: written to a 0600 file in the build's temporary directory
	file  string // secret-files: a file of the runner's
	env   string // secret-envs: a variable of the step's environment
	from  string // the input it came from, for errors
}

// buildSecrets gathers the secrets of every input, checked: the secrets input's CSV records, secret-files,
// secret-envs, and the github-token for a git URL context. serverURL is the GitHub server the token is for.
func (in *Inputs) buildSecrets(serverURL string) ([]secret, error) {
	secrets, err := parseSecrets(in.Secrets)
	if err != nil {
		return nil, fmt.Errorf("input \"secrets\": %w", err)
	}
	for _, f := range in.SecretFiles {
		id, path, _ := strings.Cut(f, "=")
		secrets = append(secrets, secret{id: strings.TrimSpace(id), file: strings.TrimSpace(path), from: "secret-files"})
	}
	for _, e := range in.SecretEnvs {
		id, name, _ := strings.Cut(e, "=")
		secrets = append(secrets, secret{id: strings.TrimSpace(id), env: strings.TrimSpace(name), from: "secret-envs"})
	}
	if tok := in.GitHubToken; tok != "" && isGitURL(in.Context) && !hasGitAuthToken(secrets) {
		u, err := url.Parse(serverURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("input \"github-token\": the GitHub server URL %q has no host to scope the token to", serverURL)
		}
		secrets = append(secrets, secret{id: "GIT_AUTH_TOKEN." + u.Host, value: tok, from: "github-token"})
	}
	seen := map[string]string{}
	for _, s := range secrets {
		switch first, ok := seen[s.id]; {
		case ok && first == s.from:
			return nil, fmt.Errorf("input %q gives secret id %q twice: buildx would keep only one", s.from, s.id)
		case ok:
			return nil, fmt.Errorf("secret id %q is given in input %q and in input %q: buildx would keep only one", s.id, first, s.from)
		}
		seen[s.id] = s.from
	}
	return secrets, nil
}

// hasGitAuthToken reports whether the user gives BuildKit's git token already; build-push-action then adds none
// (its Build.hasGitAuthTokenSecret looks at the secrets input for GIT_AUTH_TOKEN=).
func hasGitAuthToken(secrets []secret) bool {
	for _, s := range secrets {
		if s.id == "GIT_AUTH_TOKEN" || strings.HasPrefix(s.id, "GIT_AUTH_TOKEN.") {
			return true
		}
	}
	return false
}

// isGitURL tells a git context from a directory or a tarball URL as BuildKit's gitutil.ParseGitRef does: a
// git://, ssh:// or git@ address, a github.com/ shorthand, or an http(s) URL whose path ends in .git (its
// #ref:subdir or ?ref= aside).
func isGitURL(c string) bool {
	switch {
	case strings.HasPrefix(c, "git@"), strings.HasPrefix(c, "git://"), strings.HasPrefix(c, "ssh://"), strings.HasPrefix(c, "github.com/"):
		return true
	case strings.HasPrefix(c, "https://"), strings.HasPrefix(c, "http://"):
		u, err := url.Parse(c)
		return err == nil && strings.HasSuffix(u.Path, ".git")
	}
	return false
}

// parseSecrets reads the secrets input as docker/build-push-action does (it reads it with actions-toolkit's
// Util.getInputList('secrets', {ignoreComma: true}), then Build.parseSecretKvp on each item): one id=value
// per item, the value after the first "=". Errors never quote a value.
func parseSecrets(text string) ([]secret, error) {
	items, err := splitSecrets(text)
	if err != nil {
		return nil, err
	}
	var secrets []secret
	for n, item := range items {
		id, value, ok := strings.Cut(item, "=")
		switch {
		case !ok || id == "":
			return nil, fmt.Errorf(`item %d of %d is not id=value (a value on several lines must be double-quoted whole: "id=line 1<newline>line 2")`, n+1, len(items))
		case value == "":
			return nil, fmt.Errorf("secret %q has an empty value", id)
		}
		secrets = append(secrets, secret{id: id, value: value, from: "secrets"})
	}
	return secrets, nil
}

// splitSecrets splits the secrets input into items as actions-toolkit's Util.getList does with ignoreComma, over
// csv-parse with relax_quotes: records end at a newline, except inside a field that opens with a double quote,
// which runs to its closing quote across lines ("" being a quote in it); a record's fields are joined back with
// commas (a comma is part of the value); items are trimmed and empty ones dropped. encoding/csv's LazyQuotes
// would take a quote that is never closed as a value running to the end, swallowing every later secret; like
// csv-parse ("Quote Not Closed"), that is an error here.
// Inside quotes every byte is the value's, a CRLF included (a secret's bytes are not ours to change); outside,
// a CR before a newline ends the record like the newline.
func splitSecrets(text string) ([]string, error) {
	var items, record []string
	var field strings.Builder
	line := 1
	for i := 0; ; {
		if i < len(text) && text[i] == '"' { // a quoted field
			opened := line
			for i++; ; i++ {
				if i == len(text) {
					return nil, fmt.Errorf("the double quote opened on line %d is not closed", opened)
				}
				if text[i] == '"' {
					if i+1 < len(text) && text[i+1] == '"' {
						field.WriteByte('"')
						i++
						continue
					}
					i++
					break
				}
				if text[i] == '\n' {
					line++
				}
				field.WriteByte(text[i])
			}
			for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r') {
				i++
			}
			if i < len(text) && text[i] != ',' && text[i] != '\n' {
				return nil, fmt.Errorf("line %d: a double-quoted value must end its item (want a comma or the end of the line after the closing quote)", line)
			}
		}
		for i < len(text) && text[i] != ',' && text[i] != '\n' { // unquoted: quotes in it are kept
			field.WriteByte(text[i])
			i++
		}
		record = append(record, field.String())
		field.Reset()
		if i < len(text) && text[i] == ',' {
			i++
			continue
		}
		if item := strings.TrimSpace(strings.Join(record, ",")); item != "" {
			items = append(items, item)
		}
		record = nil
		if i == len(text) {
			return items, nil
		}
		i++ // the newline
		line++
	}
}

// checkSecretFile validates one secret-files item: id=path, naming a file that is there.
func checkSecretFile(item string) error {
	id, path, ok := strings.Cut(item, "=")
	if !ok || strings.TrimSpace(id) == "" || strings.TrimSpace(path) == "" {
		return errors.New("is not a secret file (want id=path)")
	}
	st, err := os.Stat(strings.TrimSpace(path))
	switch {
	case err != nil:
		return fmt.Errorf("names no file that can be read: %w", err)
	case st.IsDir():
		return errors.New("names a directory, not a file")
	}
	return nil
}

// secretFlag is the value of buildx's --secret for s, with src= a file under dir for a value. buildx reads the
// flag as one CSV record, so a field with a comma or a quote is quoted.
func secretFlag(s secret, n int, dir string) (flag, src string) {
	var source string
	switch {
	case s.env != "":
		source = "env=" + s.env
	case s.file != "":
		source = "src=" + s.file
	default:
		src = filepath.Join(dir, fmt.Sprintf("secret-%d", n))
		source = "src=" + src
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"id=" + s.id, source})
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n"), src
}

// writeSecretFiles writes each secret value to its file, readable by this user only; the files live in the
// build's temporary directory, removed when the step ends.
func writeSecretFiles(files map[string]string) error {
	for path, value := range files {
		if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
			return fmt.Errorf("writing a secret for buildx: %w", err)
		}
	}
	return nil
}
