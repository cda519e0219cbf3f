package scan

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"

	"github.com/package-url/packageurl-go"
	"github.com/rust-secure-code/go-rustaudit"
)

// maxRustDeps bounds the decompressed dependency list of a Rust binary: cargo-auditable writes a few hundred
// bytes per crate, and a section that inflates past this is not its output.
const maxRustDeps = 16 << 20

// rustDeps reads the dependency list cargo-auditable embeds in a Rust binary: the ELF section ".dep-v0"
// (".rust-deps-v0" before cargo-auditable 0.5), zlib-compressed JSON of every crate built into it
// (github.com/rust-secure-code/go-rustaudit's format, whose types it decodes into). go-rustaudit's own reader
// inflates the section without a bound, so this one reads it. nil, nil for an ELF file without the section.
func rustDeps(data []byte) (*rustaudit.VersionInfo, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, nil // not an ELF file the scan can read; buildinfo said the same of Go
	}
	sec := f.Section(".dep-v0")
	if sec == nil {
		sec = f.Section(".rust-deps-v0")
	}
	switch {
	case sec == nil:
		return nil, nil
	case sec.Flags&elf.SHF_COMPRESSED != 0 || sec.Size > maxRustDeps: // cargo-auditable writes neither
		return nil, fmt.Errorf("cargo-auditable section %s is not one cargo-auditable writes (%d bytes, flags %v)", sec.Name, sec.Size, sec.Flags)
	}
	z, err := zlib.NewReader(sec.Open())
	if err != nil {
		return nil, fmt.Errorf("cargo-auditable section %s: %w", sec.Name, err)
	}
	defer z.Close()
	raw, err := io.ReadAll(io.LimitReader(z, maxRustDeps+1))
	if err != nil {
		return nil, fmt.Errorf("cargo-auditable section %s: %w", sec.Name, err)
	}
	if len(raw) > maxRustDeps {
		return nil, fmt.Errorf("cargo-auditable section %s inflates past %d MiB", sec.Name, maxRustDeps>>20)
	}
	var vi rustaudit.VersionInfo
	if err := json.Unmarshal(raw, &vi); err != nil {
		return nil, fmt.Errorf("cargo-auditable section %s: %w", sec.Name, err)
	}
	return &vi, nil
}

// rustPackages are the crates built into a Rust binary, as syft and osv-scalibr list them: the runtime ones
// (cargo-auditable marks build dependencies "build"; proc macros count as runtime), the binary's own crate
// included. Crates of crates.io are matched against its records. A crate from a local path (the binary's own,
// its workspace's) is not assessed: crate names are crates.io's to give, and a workspace crate named "time" or
// "config" is not crates.io's; nor is one from git or another registry.
func rustPackages(f found) []Package {
	var out []Package
	for _, dep := range f.rust.Packages {
		if dep.Kind != rustaudit.Runtime || dep.Name == "" || dep.Version == "" {
			continue
		}
		eco := ""
		if dep.Source == "crates.io" {
			eco = ecoCrates
		}
		out = append(out, Package{Name: dep.Name, Version: dep.Version, Type: "rust-crate", Ecosystem: eco,
			PURL:  packageurl.NewPackageURL(packageurl.TypeCargo, "", dep.Name, dep.Version, nil, "").ToString(),
			Layer: f.layer, Path: f.path})
	}
	return out
}
