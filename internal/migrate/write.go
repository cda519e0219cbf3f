package migrate

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config writes the scribe.yaml of what Import read, each service commented with the step it comes from. One
// image name for all the services (scribe.yaml's image) with a suffix per service: their common prefix, when
// their names share one.
func (r *Result) Config() string {
	var b strings.Builder
	b.WriteString("# Written by gen-workflows import from hand-written workflows; review it, then run gen-workflows render.\n")
	registry, image, suffixes := r.images()
	if registry != "" {
		fmt.Fprintf(&b, "registry: %s\n", q(registry))
	}
	if image != "" {
		fmt.Fprintf(&b, "image: %s\n", q(image))
	}
	platforms := r.Services[0].Platforms
	if len(platforms) > 0 {
		fmt.Fprintf(&b, "platforms: [%s]\n", strings.Join(platforms, ", "))
	}
	if r.DefaultBranch != "" {
		fmt.Fprintf(&b, "default-branch: %s\n", q(r.DefaultBranch))
	}
	b.WriteString("services:\n")
	names := map[string]int{}
	for i, s := range r.Services {
		name := s.Name
		if names[name]++; names[name] > 1 {
			name = fmt.Sprintf("%s-%d", name, names[name])
		}
		fmt.Fprintf(&b, "  # from %s\n  - name: %s\n", s.from, name)
		if s.Context != "." {
			fmt.Fprintf(&b, "    context: %s\n", q(s.Context))
		}
		if s.Dockerfile != "" && s.Dockerfile != strings.TrimPrefix(s.Context+"/Dockerfile", "./") {
			fmt.Fprintf(&b, "    dockerfile: %s\n", q(s.Dockerfile))
		}
		if suffixes[i] != "" {
			fmt.Fprintf(&b, "    image-suffix: %s\n", q(suffixes[i]))
		}
		paths := s.Paths
		if len(paths) == 0 {
			paths = []string{strings.TrimPrefix(s.Context+"/**", "./")}
		}
		list(&b, "    ", "paths", paths)
		if len(s.Platforms) > 0 && !slices.Equal(s.Platforms, platforms) {
			fmt.Fprintf(&b, "    platforms: [%s]\n", strings.Join(s.Platforms, ", "))
		}
		if len(s.NativeRunners) > 0 {
			b.WriteString("    native-runners:\n")
			for _, p := range s.Platforms {
				fmt.Fprintf(&b, "      %s: %s\n", p, q(s.NativeRunners[p]))
			}
		}
		if t := s.Test; t != nil {
			fmt.Fprintf(&b, "    test:\n      setup: %s\n", t.Setup)
			if t.Version != "" {
				fmt.Fprintf(&b, "      version: %s\n", q(t.Version))
			}
			if t.WorkingDirectory != "" {
				fmt.Fprintf(&b, "      working-directory: %s\n", q(t.WorkingDirectory))
			}
			b.WriteString("      commands:\n")
			for _, c := range t.Commands {
				fmt.Fprintf(&b, "        - %s\n", q(c))
			}
		}
		if s.FailOn != "" {
			fmt.Fprintf(&b, "    scan:\n      fail-on: %s\n", s.FailOn)
		}
		if s.Signed {
			fmt.Fprintf(&b, "    sign:\n      keyless: %t\n", s.Keyless)
		}
		switch {
		case s.CleanupOff:
			b.WriteString("    cleanup:\n      enabled: false\n")
		case s.Cleaned:
			b.WriteString("    cleanup:\n")
			if s.KeepNTagged != 0 {
				fmt.Fprintf(&b, "      keep-n-tagged: %d\n", s.KeepNTagged)
			}
			list(&b, "      ", "exclude-tags", s.ExcludeTags)
			if s.OlderThan != "" {
				fmt.Fprintf(&b, "      older-than: %s\n", q(s.OlderThan))
			}
		}
	}
	return b.String()
}

// Defaults are the notes on what the rendered pipeline adds that the workflows did not do: never a silent
// change of what runs.
func (r *Result) Defaults() []string {
	var out []string
	for _, s := range r.Services {
		if !s.Scanned {
			out = append(out, fmt.Sprintf("service %s (%s): the workflows scanned nothing; the rendered pipeline scans the image and gates on critical findings (scan: enabled: false to skip)", s.Name, s.from))
		}
		if !s.Signed {
			out = append(out, fmt.Sprintf("service %s (%s): the workflows signed nothing; the rendered pipeline signs keyless (sign: enabled: false to skip)", s.Name, s.from))
		}
		if s.Cleaned && s.KeepNTagged == 0 {
			out = append(out, fmt.Sprintf("service %s (%s): the workflows' cleanup gave no count of tagged images to keep; the rendered one keeps 10 besides releases, latest and the deployment tags (cleanup.keep-n-tagged)", s.Name, s.from))
		}
		if !s.Cleaned && !s.CleanupOff {
			out = append(out, fmt.Sprintf("service %s (%s): the workflows cleaned nothing up; the rendered pipeline keeps 10 tagged images besides releases, latest and the deployment tags (cleanup: enabled: false to skip)", s.Name, s.from))
		}
		if len(s.Paths) == 0 {
			out = append(out, fmt.Sprintf("service %s (%s): the workflows filter no paths; the rendered one runs for changes under its context", s.Name, s.from))
		}
	}
	return out
}

// images splits the services' images into scribe.yaml's registry and image and a suffix per service.
func (r *Result) images() (registry, image string, suffixes []string) {
	suffixes = make([]string, len(r.Services))
	var names []string
	for _, s := range r.Services {
		reg, name := splitImage(s.Image)
		if registry == "" {
			registry = reg
		}
		names = append(names, name)
	}
	if registry == "" {
		registry = r.Registry
	}
	if names[0] == "" {
		return registry, "", suffixes
	}
	if len(names) == 1 {
		return registry, names[0], suffixes
	}
	prefix := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	image = strings.TrimRight(prefix, "-_.")
	if !strings.Contains(image, "/") || image == "" {
		image = names[0] // no common name: the first, and each other service's name after it
	}
	for i, n := range names {
		suffixes[i] = strings.TrimPrefix(n, image)
		if !strings.HasPrefix(n, image) || suffixes[i] == "" && i > 0 {
			suffixes[i] = "-" + r.Services[i].Name
		}
	}
	return registry, image, suffixes
}

// splitImage splits registry/name: the first part is a registry when it holds a dot or a colon, or is
// localhost, as docker reads it.
func splitImage(ref string) (string, string) {
	first, rest, ok := strings.Cut(ref, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, rest
	}
	if ref == "" {
		return "", ""
	}
	return "docker.io", ref
}

func q(s string) string {
	out, _ := yaml.Marshal(s)
	return strings.TrimSuffix(string(out), "\n")
}

// list writes a block list: each item quoted as YAML needs it (a comma or a bracket is safe here, where a
// flow list would split or refuse it).
func list(b *strings.Builder, indent, key string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "%s%s:\n", indent, key)
	for _, it := range items {
		fmt.Fprintf(b, "%s  - %s\n", indent, q(it))
	}
}
