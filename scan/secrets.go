package scan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/google/osv-scalibr/veles"
	"github.com/google/osv-scalibr/veles/secrets/anthropicapikey"
	"github.com/google/osv-scalibr/veles/secrets/awsaccesskey"
	"github.com/google/osv-scalibr/veles/secrets/azurestorageaccountaccesskey"
	"github.com/google/osv-scalibr/veles/secrets/digitaloceanapikey"
	"github.com/google/osv-scalibr/veles/secrets/dockerhubpat"
	"github.com/google/osv-scalibr/veles/secrets/gcpapikey"
	"github.com/google/osv-scalibr/veles/secrets/gcpsak"
	"github.com/google/osv-scalibr/veles/secrets/github"
	"github.com/google/osv-scalibr/veles/secrets/gitlabpat"
	"github.com/google/osv-scalibr/veles/secrets/huggingfaceapikey"
	"github.com/google/osv-scalibr/veles/secrets/npmjsaccesstoken"
	"github.com/google/osv-scalibr/veles/secrets/openai"
	"github.com/google/osv-scalibr/veles/secrets/privatekey"
	"github.com/google/osv-scalibr/veles/secrets/pypiapitoken"
	"github.com/google/osv-scalibr/veles/secrets/sendgrid"
	"github.com/google/osv-scalibr/veles/secrets/slacktoken"
	"github.com/google/osv-scalibr/veles/secrets/stripeapikeys"
)

// Secret is a credential found in a layer. It never holds the secret: the rule, where, and a fingerprint
// (a hash) that tells two findings of the same secret apart from two different ones.
type Secret struct {
	Rule        string `json:"rule"`
	Path        string `json:"path"`
	Layer       int    `json:"layer"` // 0-based
	Line        int    `json:"line"`
	Fingerprint string `json:"fingerprint"`
	Ignored     string `json:"ignored,omitempty"` // the ignore file's reason, when an entry covers it
	// Commit and Date are, for a secret found in a repository's history, the commit that added the line and
	// its author date (RFC 3339, UTC); a source scan's secrets have Layer -1.
	Commit string `json:"commit,omitempty"`
	Date   string `json:"date,omitempty"`
}

// secretScanner finds credentials with the detectors of osv-scalibr's veles (Google's maintained secret
// rules), plus one rule for .env files holding credentials. Vault's and URL-credential detectors are left out:
// in a distribution's Python and Perl sources they only found examples.
type secretScanner struct {
	rules []rule
}

// rule is a detector and, as gitleaks does, the keywords without which it cannot match: the detectors whose
// patterns have no literal prefix (AWS's 40-character secret, Docker Hub's user name, a service account's JSON)
// are otherwise most of a scan's time.
type rule struct {
	detector veles.Detector
	keywords [][]byte
}

func newSecretScanner() *secretScanner {
	kw := func(words ...string) [][]byte {
		var out [][]byte
		for _, w := range words {
			out = append(out, []byte(w))
		}
		return out
	}
	always := []veles.Detector{
		privatekey.NewDetector(), gcpapikey.NewDetector(), digitaloceanapikey.NewDetector(),
		github.NewClassicPATDetector(), github.NewFineGrainedPATDetector(), github.NewOAuthTokenDetector(),
		github.NewAppS2STokenDetector(), github.NewAppU2SDetector(), github.NewAppRefreshTokenDetector(),
		gitlabpat.NewDetector(), slacktoken.NewAppLevelTokenDetector(), stripeapikeys.NewSecretKeyDetector(),
		npmjsaccesstoken.NewDetector(), pypiapitoken.NewDetector(), sendgrid.NewDetector(),
		openai.NewDetector(), anthropicapikey.NewDetector(), huggingfaceapikey.NewDetector(),
	}
	s := &secretScanner{rules: []rule{
		{awsaccesskey.NewDetector(), kw("AKIA", "ASIA")},
		{dockerhubpat.NewDetector(), kw("dckr_pat_")},
		{gcpsak.NewDetector(), kw("auth_provider_x509_cert_url", "ewogICJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCIs")},
		{azurestorageaccountaccesskey.NewDetector(), kw("azure", "Azure", "AZURE", "az storage")},
	}}
	for _, d := range always {
		s.rules = append(s.rules, rule{detector: d})
	}
	return s
}

// Paths that hold documentation, translations and time zones, never credentials.
var secretSkip = []string{"/usr/share/doc/", "/usr/share/man/", "/usr/share/locale/", "/usr/share/zoneinfo/",
	"/usr/share/i18n/", "/usr/share/info/", "/usr/include/", "/var/lib/dpkg/info/"}

func (s *secretScanner) wants(p string) bool {
	for _, prefix := range secretSkip {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	return true
}

func (s *secretScanner) scan(p string, layer int, data []byte) []Secret {
	head := data[:min(len(data), 8000)]
	if bytes.IndexByte(head, 0) >= 0 { // binary: only a DER key file is worth reading
		switch path.Ext(p) {
		case ".der", ".key", ".p8":
		default:
			return nil
		}
	}
	var out []Secret
	for _, r := range s.rules {
		if len(r.keywords) > 0 && !slices.ContainsFunc(r.keywords, func(k []byte) bool { return bytes.Contains(data, k) }) {
			continue
		}
		secrets, offsets := r.detector.Detect(data)
		for i, sec := range secrets {
			out = append(out, newSecret(ruleName(sec), p, layer, data, offsets[i], fmt.Sprintf("%+v", sec)))
		}
	}
	if isDotEnv(path.Base(p)) {
		for _, m := range dotEnvCredential.FindAllSubmatchIndex(data, -1) {
			value := string(data[m[4]:m[5]])
			if strings.HasPrefix(value, "$") || placeholder.MatchString(value) {
				continue
			}
			out = append(out, newSecret("DotEnvCredential", p, layer, data, m[0], string(data[m[2]:m[3]])+"="+value))
		}
	}
	return out
}

func newSecret(rule, p string, layer int, data []byte, offset int, value string) Secret {
	sum := sha256.Sum256([]byte(rule + "\x00" + value))
	return Secret{Rule: rule, Path: p, Layer: layer, Line: bytes.Count(data[:offset], []byte("\n")) + 1,
		Fingerprint: hex.EncodeToString(sum[:8])}
}

// ruleName names a veles finding by its type: privatekey.PrivateKey -> PrivateKey. Types named only for what
// they are (openai.APIKey, sendgrid.APIKey, awsaccesskey.Credentials) get their vendor in front.
func ruleName(sec veles.Secret) string {
	t := reflect.TypeOf(sec)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return vendorPrefix[path.Base(t.PkgPath())] + t.Name()
}

// vendorPrefix names the vendor of the veles packages whose type names do not.
var vendorPrefix = map[string]string{"openai": "OpenAI", "sendgrid": "SendGrid", "anthropicapikey": "Anthropic", "awsaccesskey": "AWS"}

func isDotEnv(base string) bool {
	return base == ".env" || strings.HasPrefix(base, ".env.") || strings.HasSuffix(base, ".env")
}

var (
	dotEnvCredential = regexp.MustCompile(`(?mi)^\s*(?:export\s+)?([A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)[A-Z0-9_]*)\s*=\s*["']?([^"'\s#]{6,})`)
	placeholder      = regexp.MustCompile(`(?i)^(changeme|change_me|example|placeholder|your[_-].*|xxx+|\*+|<.*>|null|none|false|true)$`)
)
