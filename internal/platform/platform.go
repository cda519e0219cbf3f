// Package platform checks the os/arch[/variant] platforms users name, before buildx or a workflow sees them.
package platform

import (
	"fmt"
	"slices"
	"strings"
)

var (
	knownOS   = []string{"linux", "windows", "darwin", "freebsd"}
	knownArch = []string{"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le", "loong64"}
)

// Check accepts an os/arch[/variant] platform that buildx can target, such as linux/arm64 or
// linux/arm/v7.
func Check(p string) error {
	parts := strings.Split(p, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("is not a platform (want os/arch[/variant], e.g. linux/arm64)")
	}
	if !slices.Contains(knownOS, parts[0]) {
		return fmt.Errorf("is not a platform: unknown OS %q (want one of: %s)", parts[0], strings.Join(knownOS, ", "))
	}
	if !slices.Contains(knownArch, parts[1]) {
		return fmt.Errorf("is not a platform: unknown architecture %q (want one of: %s)", parts[1], strings.Join(knownArch, ", "))
	}
	return nil
}
