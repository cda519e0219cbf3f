package cleanup

import (
	"strings"
	"testing"
	"time"
)

// A bad age is an input error naming the input, its text and what is allowed, before any registry is read.
func TestCleanupBadAgeNamesTheInput(t *testing.T) {
	for _, input := range []string{"older-than", "untagged-older-than"} {
		code, log, _ := runStep(t, Action(), map[string]string{"registry": "127.0.0.1:1", "packages": "app", input: "30 dayz"})
		want := `input "` + input + `": "30 dayz" is not an age (want e.g. 30d`
		if code != 1 || !strings.Contains(log, want) || strings.Contains(log, "127.0.0.1:1") {
			t.Errorf("%s: exit %d; want %q\n%s", input, code, want, log)
		}
	}
	in := &Inputs{KeepNTagged: -1, KeepNUntagged: -1, MinVersionsToKeep: -1, OlderThan: "2 weeks", UntaggedOlderThan: "1 day"}
	r, err := in.Rules(now)
	if err != nil || r.OlderThan != 14*24*time.Hour || r.UntaggedOlderThan != 24*time.Hour {
		t.Errorf("rules %+v, %v", r, err)
	}
}
