package drift

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
)

// refCheck is the audit of one reference in progress: the findings so far and the kinds it could not check.
type refCheck struct {
	a   *Auditor
	u   Use
	res checked
}

// add records a finding at the reference.
func (rc *refCheck) add(kind, sev, format string, args ...any) {
	rc.res.drifts = append(rc.res.drifts, Drift{Use: rc.u, Kind: kind, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// soft takes a lookup that failed: an error fatal to the audit is returned, any other notes kinds as not
// checked.
func (rc *refCheck) soft(err error, kinds ...string) error {
	if fatal(err) {
		return err
	}
	rc.res.notChecked = append(rc.res.notChecked, kinds...)
	return nil
}

// check audits one reference. Its error is fatal to the audit; anything else becomes a finding or a note of
// what could not be checked.
func (a *Auditor) check(ctx context.Context, u Use) (checked, error) {
	rc := &refCheck{a: a, u: u}
	if !rc.remote() {
		return rc.res, nil
	}
	c, found, err := rc.resolve(ctx)
	if !found || err != nil {
		return rc.res, err
	}
	rc.res.commit = c.SHA
	exact, err := rc.exactRelease(ctx, c)
	if err != nil {
		return rc.res, err
	}
	rc.unpinned(c, exact)
	if err := rc.comment(ctx, c, exact); err != nil {
		return rc.res, err
	}
	ver := judgedVersion(u, c, exact)
	rc.deprecated(ver)
	if err := rc.deprecatedRuntime(ctx, c, ver); err != nil {
		return rc.res, err
	}
	return rc.res, rc.behind(ctx, c, ver)
}

// remote reports whether the reference names a repository to look up. A docker image, a local action and a
// value that is no action reference are judged here, on their text alone.
func (rc *refCheck) remote() bool {
	u := rc.u
	switch u.Kind {
	case "docker":
		if !strings.Contains(u.Value, "@sha256:") {
			rc.add(KindUnpinned, SevWarning, "%s is a container image by tag; pin it by digest (docker://image@sha256:...)", u.Value)
		}
		return false
	case "local":
		return false
	}
	if u.Ref.Owner == "" {
		rc.add(KindUnknownRef, SevError, "%q is not an action reference (want owner/repo[/path]@ref)", u.Value)
		return false
	}
	return true
}

// resolve finds the commit the reference's ref stands for. A repository or ref that does not exist is a
// finding that ends the reference's audit (found is false); a lookup that could not be made leaves the
// commit unknown and the kinds that need it not checked.
func (rc *refCheck) resolve(ctx context.Context) (c commitInfo, found bool, err error) {
	r := rc.u.Ref
	c, err = rc.a.commit(ctx, r, r.Ref)
	var nf errNotFound
	switch {
	case errors.As(err, &nf):
		rc.add(KindUnknownRef, SevError, "%s", nf.what)
		return commitInfo{}, false, rc.unknownPinComment(ctx)
	case err != nil:
		return commitInfo{}, true, rc.soft(err, KindUnknownRef, KindCommentMismatch, KindBehind, runtimeCheck)
	}
	return c, true, nil
}

// unknownPinComment checks the comment of a SHA pin its repository does not know: the comment can still
// name a tag of another commit.
func (rc *refCheck) unknownPinComment(ctx context.Context) error {
	u, r := rc.u, rc.u.Ref
	if !actionref.IsSHA(r.Ref) || u.Comment == "" {
		return nil
	}
	if cc, err := rc.a.commit(ctx, r, u.Comment); err == nil && cc.SHA != r.Ref {
		rc.add(KindCommentMismatch, SevError, "the comment says %s (commit %s), but the pin is %s", u.Comment, short(cc.SHA), short(r.Ref))
	} else if fatal(err) {
		return err
	}
	return nil
}

// exactRelease is the exact release (vX.Y.Z) the reference stands for: its ref when that is one, else the
// highest such tag at its commit, else "".
func (rc *refCheck) exactRelease(ctx context.Context, c commitInfo) (string, error) {
	r := rc.u.Ref
	if v, ok := parseVersion(r.Ref); ok && v.exact() {
		return r.Ref, nil
	}
	if c.SHA == "" {
		return "", nil
	}
	tags, err := rc.a.tagsAt(ctx, r, c.SHA)
	if err != nil {
		return "", rc.soft(err, KindBehind)
	}
	return highest(tags), nil
}

// unpinned reports a ref that can move, with the pin to write when its commit and release are known.
func (rc *refCheck) unpinned(c commitInfo, exact string) {
	r := rc.u.Ref
	if actionref.IsSHA(r.Ref) {
		return
	}
	what := "the tag or branch"
	if exact != "" && c.SHA != "" {
		rc.add(KindUnpinned, SevWarning, "%s uses %s %q, which can move; pin it: %s@%s # %s", r.Action(), what, r.Ref, r.Action(), c.SHA, exact)
	} else {
		rc.add(KindUnpinned, SevWarning, "%s uses %s %q, which can move; pin it to a full commit SHA", r.Action(), what, r.Ref)
	}
}

// comment checks the version comment of a SHA pin against the commit its tag points to: a tag of another
// commit is a lie, a moving tag over the pinned release only imprecise.
func (rc *refCheck) comment(ctx context.Context, c commitInfo, exact string) error {
	u, r := rc.u, rc.u.Ref
	if !actionref.IsSHA(r.Ref) || u.Comment == "" || c.SHA == "" {
		return nil
	}
	cc, err := rc.a.commit(ctx, r, u.Comment)
	var nf errNotFound
	switch {
	case errors.As(err, &nf):
		rc.add(KindCommentMismatch, SevError, "the comment says %s, but %s has no such tag; the pin is %s", u.Comment, r.Repository(), orUntagged(exact, c.SHA))
	case err != nil:
		return rc.soft(err, KindCommentMismatch)
	case cc.SHA == c.SHA:
		// a truthful comment
	default:
		cv, _ := parseVersion(u.Comment)
		ev, ok := parseVersion(exact)
		if ok && cv.parts < 3 && within(ev, cv) {
			rc.add(KindImprecise, SevNote, "the comment names the moving tag %s (now at %s); the pin is %s: write # %s", u.Comment, short(cc.SHA), exact, exact)
		} else {
			rc.add(KindCommentMismatch, SevError, "the comment says %s (commit %s), but the pinned commit %s is %s", u.Comment, short(cc.SHA), short(c.SHA), orUntagged(exact, c.SHA))
		}
	}
	return nil
}

// judgedVersion is the version deprecations and "behind" are judged on: the exact release, else a moving
// ref as written, else (offline, the commit unknown) the comment, which is all there is.
func judgedVersion(u Use, c commitInfo, exact string) string {
	ver := exact
	if ver == "" && !actionref.IsSHA(u.Ref.Ref) {
		ver = u.Ref.Ref
	}
	if ver == "" && u.Comment != "" && c.SHA == "" {
		ver = u.Comment
	}
	return ver
}

func orUntagged(version, sha string) string {
	if version != "" {
		return version
	}
	return "untagged commit " + short(sha)
}

// sevByDate is the severity of a dated deprecation: a warning before its date, an error from then on.
func (a *Auditor) sevByDate(date string) string {
	d, err := time.Parse("2006-01-02", date)
	if err == nil && d.After(a.Now) {
		return SevWarning
	}
	return SevError
}

// deprecated reports a version the catalogue lists as deprecated.
func (rc *refCheck) deprecated(ver string) {
	v, ok := parseVersion(ver)
	if !ok {
		return
	}
	u := rc.u
	for _, e := range rc.a.Catalogue.Actions {
		if e.Action != u.Ref.Repository() {
			continue
		}
		below, _ := parseVersion(e.Below)
		from, hasFrom := parseVersion(e.From)
		at := v.ceiling()
		if cmp3(at, below.v) < 0 && (!hasFrom || cmp3(at, from.v) >= 0) {
			verb := "since"
			if rc.a.sevByDate(e.Date) == SevWarning {
				verb = "from"
			}
			rc.add(KindDeprecated, rc.a.sevByDate(e.Date), "%s %s is deprecated %s %s: %s", u.Ref.Action(), ver, verb, e.Date, e.Reason)
		}
	}
}

// deprecatedRuntime reports an action whose action.yml, at the pinned commit, runs on a deprecated runtime.
func (rc *refCheck) deprecatedRuntime(ctx context.Context, c commitInfo, ver string) error {
	if c.SHA == "" || rc.u.Kind != "action" {
		return nil
	}
	r := rc.u.Ref
	using, err := rc.a.runtime(ctx, r, c.SHA)
	if err != nil {
		return rc.soft(err, runtimeCheck)
	}
	if rt, ok := rc.a.Catalogue.Runtimes[using]; ok {
		rc.add(KindDeprecated, rc.a.sevByDate(rt.Date), "%s at %s runs on %s: %s", r.Action(), orUntagged(ver, c.SHA), using, rt.Reason)
	}
	return nil
}

// behind reports a version older than the action's latest release: a major version behind is a warning, a
// minor or patch one a note.
func (rc *refCheck) behind(ctx context.Context, c commitInfo, ver string) error {
	if c.SHA == "" {
		return nil
	}
	u := rc.u
	rel, err := rc.a.latest(ctx, u.Ref)
	if apiStatus(err) == http.StatusNotFound {
		return nil // no releases
	}
	if err != nil {
		return rc.soft(err, KindBehind)
	}
	cur, ok1 := parseVersion(ver)
	latest, ok2 := parseVersion(rel.Tag)
	if !ok1 || !ok2 || !latest.exact() || cmp3(cur.ceiling(), latest.v) >= 0 {
		return nil
	}
	level, sev := "patch", SevNote
	switch {
	case cur.v[0] < latest.v[0]:
		level, sev = "major", SevWarning
	case cur.parts > 1 && cur.v[1] < latest.v[1]:
		level = "minor"
	}
	days := ""
	if !c.Date.IsZero() && !rel.Date.IsZero() && rel.Date.After(c.Date) {
		days = fmt.Sprintf(", %d days behind", int(rel.Date.Sub(c.Date).Hours()/24))
	}
	rc.add(KindBehind, sev, "%s %s is a %s version behind the latest release %s%s", u.Ref.Action(), ver, level, rel.Tag, days)
	return nil
}
