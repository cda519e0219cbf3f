package scan

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Dockerfile is the Dockerfile the image was built from: its path in the repository, as code scanning wants
// it, and its final stage, to point each result at the line that added its layer.
type Dockerfile struct {
	Path  string
	stage []instruction
}

// ReadDockerfile reads the final stage of the Dockerfile at path; workspace (GITHUB_WORKSPACE, "" in a
// terminal) is the repository root its path is made relative to.
func ReadDockerfile(path, workspace string) (*Dockerfile, error) {
	stage, err := finalStage(path)
	if err != nil {
		return nil, err
	}
	return &Dockerfile{Path: repoPath(path, workspace), stage: stage}, nil
}

// repoPath is the Dockerfile's path as code scanning wants it: relative to the repository root.
func repoPath(p, workspace string) string {
	if abs, err := filepath.Abs(p); err == nil && workspace != "" {
		if rel, err := filepath.Rel(workspace, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(filepath.Clean(p))
}

// instruction is a Dockerfile instruction and the line it starts on.
type instruction struct {
	keyword string // upper case: FROM, RUN, COPY...
	line    int
}

// finalStage reads a Dockerfile's instructions (continuation lines joined, comments skipped) and returns
// those of its last stage, FROM first.
func finalStage(path string) ([]instruction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var all []instruction
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n, continued := 0, false
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !continued {
			kw, _, _ := strings.Cut(line, " ")
			all = append(all, instruction{keyword: strings.ToUpper(kw), line: n})
		}
		continued = strings.HasSuffix(line, `\`)
	}
	last := 0
	for i, in := range all {
		if in.keyword == "FROM" {
			last = i
		}
	}
	return all[last:], sc.Err()
}

var historyKeyword = regexp.MustCompile(`^(?:/bin/sh -c #\(nop\)\s*)?([A-Z]+)\b`)

// layerLines maps each layer of the image to the Dockerfile line that made it: the image history's
// layer-making entries are matched, from the last, with the final stage's instructions of the same keyword;
// layers before them came with the base image and point at its FROM.
func layerLines(img v1.Image, stage []instruction) map[int]int {
	cf, err := img.ConfigFile()
	if err != nil || len(stage) == 0 {
		return nil
	}
	var keywords []string
	for _, h := range cf.History {
		if h.EmptyLayer {
			continue
		}
		kw := "RUN" // the legacy builder's RUN entries are "/bin/sh -c <command>"
		if m := historyKeyword.FindStringSubmatch(strings.TrimSpace(h.CreatedBy)); m != nil {
			kw = m[1]
		}
		keywords = append(keywords, kw)
	}
	out := map[int]int{}
	next := len(stage) - 1
	for layer := len(keywords) - 1; layer >= 0; layer-- {
		j := next
		for j > 0 && stage[j].keyword != keywords[layer] {
			j--
		}
		if j <= 0 { // none left in the final stage: a base image layer
			out[layer] = stage[0].line
			next = 0
			continue
		}
		out[layer] = stage[j].line
		next = j - 1
	}
	return out
}
