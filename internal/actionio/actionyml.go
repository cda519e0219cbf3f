package actionio

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// ActionYML renders the action.yml of an action from its spec: a node24 action whose main file (MainJS) starts
// the shared launcher with the action's name. JavaScript, not composite, because only JavaScript and container
// actions get the Actions runtime (ACTIONS_RUNTIME_TOKEN and the cache URLs) that buildx's type=gha cache needs;
// see launcher/entry.cjs. The runner passes every input as INPUT_<NAME> itself.
func ActionYML(spec *Spec, header string) []byte {
	var b strings.Builder
	if header != "" {
		for _, l := range strings.Split(header, "\n") {
			b.WriteString("# " + l + "\n")
		}
	}
	fmt.Fprintf(&b, "name: %s\n", scalar("scribe-actions "+spec.Name))
	fmt.Fprintf(&b, "description: %s\n", scalar(spec.Description))
	b.WriteString("author: infinite-scribe\n")
	if len(spec.Inputs) > 0 {
		b.WriteString("inputs:\n")
	}
	for _, in := range spec.Inputs {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n    required: %t\n", in.Name, scalar(in.Description), in.required)
		if def := in.actionDefault(); def != "" {
			fmt.Fprintf(&b, "    default: %s\n", scalar(def))
		}
	}
	if len(spec.Outputs) > 0 {
		b.WriteString("outputs:\n")
	}
	for _, o := range spec.Outputs {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n", o.Name, scalar(o.Description))
	}
	fmt.Fprintf(&b, "runs:\n  using: %s\n  main: %s\n", Runtime, MainFile)
	return []byte(b.String())
}

// Runtime and MainFile are the runs: of every action: node24 needs runner v2.327.1 or later (GitHub-hosted
// runners have it; older self-hosted runners and GHES refuse the action by name).
const (
	Runtime  = "node24"
	MainFile = "main.cjs"
)

// MainJS is an action's main file: one line that starts the launcher for it.
func MainJS(action string) []byte {
	return []byte("// Generated with action.yml; starts the scribe-actions binary (launcher/entry.cjs).\n" +
		"require('../launcher/entry.cjs').run('" + action + "');\n")
}

// EnvName is an input's variable as an identifier: INPUT_ + the name upper-cased, with spaces and hyphens as
// underscores. The runner's own name keeps the hyphen (INPUT_TAG-SUFFIX), but dash, the /bin/sh of Debian and
// Ubuntu runners, drops such variables from the environment of what it runs, so launcher/entry.cjs adds this
// alias; an identifier survives every shell. The binary reads both.
func EnvName(input string) string {
	return "INPUT_" + strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_").Replace(input))
}

func scalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return strings.ReplaceAll(strings.TrimSuffix(string(out), "\n"), "\n", "\n    ")
}

// actionFile is the part of an action.yml that must agree with the spec.
type actionFile struct {
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Required    bool    `yaml:"required"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Main  string `yaml:"main"`
	} `yaml:"runs"`
}

// CheckActionYML lists every way an action.yml disagrees with the spec: inputs and outputs missing or extra,
// defaults, required-ness and descriptions that differ, a runs: that does not start the launcher.
func CheckActionYML(spec *Spec, content []byte) []string {
	var f actionFile
	if err := yaml.Unmarshal(content, &f); err != nil {
		return []string{fmt.Sprintf("not valid YAML: %v", err)}
	}
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if f.Runs.Using != Runtime || f.Runs.Main != MainFile {
		add("runs: want using %s with main %s, got using %q with main %q", Runtime, MainFile, f.Runs.Using, f.Runs.Main)
	}
	seen := map[string]bool{}
	for _, in := range spec.Inputs {
		seen[in.Name] = true
		got, ok := f.Inputs[in.Name]
		if !ok {
			add("input %q is declared in Go but not in action.yml", in.Name)
			continue
		}
		if got.Required != in.required {
			add("input %q: required is %t in action.yml, %t in Go", in.Name, got.Required, in.required)
		}
		def := ""
		if got.Default != nil {
			def = *got.Default
		}
		if def != in.actionDefault() {
			add("input %q: default is %q in action.yml, %q in Go", in.Name, def, in.actionDefault())
		}
		if got.Description != in.Description {
			add("input %q: description differs between action.yml and Go", in.Name)
		}
	}
	for name := range f.Inputs {
		if !seen[name] {
			add("input %q is declared in action.yml but not in Go", name)
		}
	}
	outs := map[string]bool{}
	for _, o := range spec.Outputs {
		outs[o.Name] = true
		if _, ok := f.Outputs[o.Name]; !ok {
			add("output %q is declared in Go but not in action.yml", o.Name)
		}
	}
	for name := range f.Outputs {
		if !outs[name] {
			add("output %q is declared in action.yml but not in Go", name)
		}
	}
	return diffs
}

// Markdown renders an action's inputs and outputs as two markdown tables, for the README.
func Markdown(spec *Spec) string {
	var b strings.Builder
	b.WriteString("| input | kind | default | description |\n| --- | --- | --- | --- |\n")
	for _, in := range spec.Inputs {
		def := "`" + strings.ReplaceAll(in.actionDefault(), "\n", "` `") + "`"
		switch {
		case in.required:
			def = "**required**"
		case in.actionDefault() == "":
			def = ""
		}
		kind := string(in.Kind)
		if in.Kind == KindEnum {
			kind = strings.Join(in.Allowed, " \\| ")
		}
		desc := strings.ReplaceAll(in.Description, "|", "\\|")
		if in.secret {
			desc += " Secret: masked."
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", in.Name, kind, def, desc)
	}
	b.WriteString("\n| output | description |\n| --- | --- |\n")
	for _, o := range spec.Outputs {
		fmt.Fprintf(&b, "| `%s` | %s |\n", o.Name, strings.ReplaceAll(o.Description, "|", "\\|"))
	}
	return b.String()
}
