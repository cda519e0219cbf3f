package build

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The checks of the inputs build-push-action passes to buildx as they are. Each refuses what buildx would
// refuse only after the builder is up (or, for a mapping, would take as something else), so a bad value fails
// the step before anything runs, naming its input.

// checkPair makes the check of a name=value item, both sides non-empty.
func checkPair(what string) func(string) error {
	return func(item string) error {
		k, v, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return fmt.Errorf("is not %s", what)
		}
		return nil
	}
}

// annotationKey is the key of an annotation as buildx's buildflags.ParseAnnotations reads it: an optional type,
// with an optional [platform], then a key without spaces.
var annotationKey = regexp.MustCompile(`^(?:([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?:)?(\S+)$`)

// checkAnnotation validates an annotation as buildx does: [type[platform]:]key=value, the type manifest,
// index, manifest-descriptor or index-descriptor.
func checkAnnotation(item string) error {
	key, _, ok := strings.Cut(item, "=")
	m := annotationKey.FindStringSubmatch(key)
	if !ok || m == nil {
		return errors.New("is not an annotation (want key=value, e.g. org.opencontainers.image.description=My app, or index:key=value)")
	}
	if t := m[1]; t != "" && !slices.Contains([]string{"manifest", "index", "manifest-descriptor", "index-descriptor"}, t) {
		return fmt.Errorf("has annotation type %q (want manifest, index, manifest-descriptor or index-descriptor)", t)
	}
	return nil
}

// checkSSH validates an ssh item: default, an id, or id=socket-or-key[,...].
func checkSSH(item string) error {
	if id, _, _ := strings.Cut(item, "="); strings.TrimSpace(id) == "" {
		return errors.New("is not an SSH source (want default, or id=path of an agent socket or a key)")
	}
	return nil
}

// shmSize is a size as buildx reads --shm-size (docker/go-units' RAMInBytes): 2g, 512m, 1.5GiB, 67108864.
var shmSize = regexp.MustCompile(`^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`)

func checkShmSize(text string) error {
	if !shmSize.MatchString(text) {
		return errors.New("is not a size (want a number with an optional unit b, k, m, g, t or p, e.g. 2g)")
	}
	return nil
}

// ulimitNames are the ulimits buildx accepts (docker/go-units' ParseUlimit).
var ulimitNames = []string{"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
	"rss", "rtprio", "rttime", "sigpending", "stack"}

// checkUlimit validates a ulimit as go-units parses it: name=soft[:hard], whole numbers, soft not above hard.
func checkUlimit(item string) error {
	name, limits, ok := strings.Cut(item, "=")
	if !ok || !slices.Contains(ulimitNames, name) {
		return fmt.Errorf("is not a ulimit (want name=soft[:hard], the name one of %s)", strings.Join(ulimitNames, ", "))
	}
	soft, hard, hasHard := strings.Cut(limits, ":")
	s, err := strconv.ParseInt(soft, 10, 64)
	if err != nil {
		return fmt.Errorf("has a soft limit %q that is not a whole number", soft)
	}
	if hasHard {
		h, err := strconv.ParseInt(hard, 10, 64)
		if err != nil {
			return fmt.Errorf("has a hard limit %q that is not a whole number", hard)
		}
		if s > h {
			return fmt.Errorf("has a soft limit above its hard limit")
		}
	}
	return nil
}

// checkAddHost validates a host mapping as docker's ValidateExtraHost does: host=ip, else host:ip (so an IPv6
// address may follow a colon, host:::1), the address an IP, in brackets or not, or host-gateway.
func checkAddHost(item string) error {
	host, ip, ok := strings.Cut(item, "=")
	if !ok {
		host, ip, ok = strings.Cut(item, ":")
	}
	ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
	if !ok || host == "" || (ip != "host-gateway" && net.ParseIP(ip) == nil) {
		return errors.New("is not a host-to-IP mapping (want host:ip, e.g. docker:10.180.0.1, or host=ip for IPv6)")
	}
	return nil
}
