package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/owenrumney/go-sarif/v2/sarif"
)

// Output formats of drift.
var driftFormats = []string{"table", "json", "sarif", "github", "markdown"}

var kindHelp = map[string]string{
	KindUnpinned:        "An action or image referenced by a tag or branch, which can move, instead of a full commit SHA or digest.",
	KindCommentMismatch: "A SHA pin whose version comment names a tag that points to another commit.",
	KindImprecise:       "A SHA pin whose version comment names a moving tag (v4) rather than the exact release (v4.2.2).",
	KindDeprecated:      "A pinned version that is deprecated, or whose action.yml runs on a removed Node runtime.",
	KindBehind:          "A pinned version older than the action's latest release.",
	KindInconsistent:    "The same action referenced in different ways across the audited files.",
	KindUnknownRef:      "A ref, SHA or repository that does not exist.",
}

func (rep *Report) write(w io.Writer, format string) error {
	switch format {
	case "json":
		return rep.writeJSON(w)
	case "sarif":
		return rep.writeSARIF(w)
	case "github":
		for _, d := range rep.Drifts {
			level := map[string]string{SevError: "error", SevWarning: "warning", SevNote: "notice"}[d.Severity]
			fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", level, d.Use.File, d.Use.Line, d.Use.Col, d.Kind, escapeData(d.Message))
		}
		return nil
	case "markdown":
		return rep.writeMarkdown(w)
	}
	for _, d := range rep.Drifts {
		fmt.Fprintln(w, d.String())
	}
	if len(rep.Repositories) > 0 {
		fmt.Fprintln(w, "\naction refs in use (repositories)")
		for _, a := range slices.Sorted(maps.Keys(rep.Repositories)) {
			var vs []string
			for _, v := range slices.Sorted(maps.Keys(rep.Repositories[a])) {
				vs = append(vs, fmt.Sprintf("%s (%d)", v, rep.Repositories[a][v]))
			}
			fmt.Fprintf(w, "  %s: %s\n", a, strings.Join(vs, ", "))
		}
	}
	fmt.Fprintln(w, rep.summary())
	return nil
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func (rep *Report) counts() map[string]int {
	c := map[string]int{}
	for _, d := range rep.Drifts {
		c[d.Kind]++
	}
	return c
}

func (rep *Report) summary() string {
	var parts []string
	counts := rep.counts()
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	s := fmt.Sprintf("%d references, %d findings", rep.References, len(rep.Drifts))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if len(rep.NotChecked) > 0 {
		var nc []string
		for _, k := range slices.Sorted(maps.Keys(rep.NotChecked)) {
			nc = append(nc, fmt.Sprintf("%s for %d", k, rep.NotChecked[k]))
		}
		s += "\nnot checked (offline, not in the cache): " + strings.Join(nc, ", ")
	}
	return s
}

func (rep *Report) writeJSON(w io.Writer) error {
	type finding struct {
		File     string `json:"file"`
		Line     int    `json:"line"`
		Column   int    `json:"column"`
		Uses     string `json:"uses"`
		Kind     string `json:"kind"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
	}
	out := struct {
		References   int                       `json:"references"`
		Findings     []finding                 `json:"findings"`
		Counts       map[string]int            `json:"counts"`
		NotChecked   map[string]int            `json:"not_checked"`
		Versions     map[string]map[string]int `json:"versions"`
		Repositories map[string]map[string]int `json:"repositories,omitempty"`
	}{References: rep.References, Findings: []finding{}, Counts: rep.counts(), NotChecked: rep.NotChecked, Versions: rep.Versions,
		Repositories: rep.Repositories}
	for _, d := range rep.Drifts {
		out.Findings = append(out.Findings, finding{d.Use.File, d.Use.Line, d.Use.Col, d.Use.Value, d.Kind, d.Severity, d.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeSARIF writes one run with a rule per kind; each result has its location at the uses: line and a
// fingerprint of file, action and kind (stable when lines move).
func (rep *Report) writeSARIF(w io.Writer) error {
	s, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	run := sarif.NewRunWithInformationURI("gen-workflows drift", "https://github.com/infinite-scribe/scribe-actions")
	for _, k := range slices.Sorted(maps.Keys(kindHelp)) {
		run.AddRule(k).WithName(k).WithShortDescription(sarif.NewMultiformatMessageString(kindHelp[k]))
	}
	for _, d := range rep.Drifts {
		uri := filepath.ToSlash(d.Use.File)
		sum := sha256.Sum256([]byte(uri + "\x00" + d.Use.Value + "\x00" + d.Kind))
		run.CreateResultForRule(d.Kind).
			WithLevel(d.Severity).
			WithMessage(sarif.NewTextMessage(d.Message)).
			WithPartialFingerPrints(map[string]interface{}{"driftFingerprint/v1": hex.EncodeToString(sum[:16])}).
			AddLocation(sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewArtifactLocation().WithUri(uri)).
				WithRegion(sarif.NewRegion().WithStartLine(d.Use.Line).WithStartColumn(d.Use.Col))))
	}
	s.AddRun(run)
	return s.PrettyWrite(w)
}

func (rep *Report) writeMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "## Action version drift\n\n%d references, %d findings.\n\n| kind | findings |\n| --- | ---: |\n", rep.References, len(rep.Drifts))
	counts := rep.counts()
	for _, k := range slices.Sorted(maps.Keys(kindHelp)) {
		fmt.Fprintf(w, "| %s | %d |\n", k, counts[k])
	}
	if len(rep.Drifts) > 0 {
		fmt.Fprintf(w, "\n| where | kind | finding |\n| --- | --- | --- |\n")
		for _, d := range rep.Drifts {
			fmt.Fprintf(w, "| `%s` | %s | %s |\n", d.Use.Pos(), d.Kind, strings.ReplaceAll(d.Message, "|", "\\|"))
		}
	}
	fmt.Fprintf(w, "\n| action | refs in use |\n| --- | --- |\n")
	for _, a := range slices.Sorted(maps.Keys(rep.Versions)) {
		var vs []string
		for _, v := range slices.Sorted(maps.Keys(rep.Versions[a])) {
			vs = append(vs, fmt.Sprintf("`%s` (%d)", v, rep.Versions[a][v]))
		}
		fmt.Fprintf(w, "| %s | %s |\n", a, strings.Join(vs, ", "))
	}
	return nil
}
