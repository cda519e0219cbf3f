package scan

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

const toolName = "scribe-actions"

// imagePURL names the scanned image: pkg:oci/<name>@<digest>, as syft and trivy do.
func imagePURL(t *target) string {
	if t.digest == "" {
		return ""
	}
	return "pkg:oci/" + t.name + "@" + escapeColon(t.digest)
}

func escapeColon(s string) string { return strings.ReplaceAll(s, ":", "%3A") }

// uuidFor is a version 4 shaped UUID derived from seed, for serial numbers and namespaces.
func uuidFor(seed string) string {
	b := sha256.Sum256([]byte(seed))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// version is what SBOMs call the image's version: its digest, or for a tarball its image ID.
func (t *target) version() string {
	if t.digest != "" {
		return t.digest
	}
	return t.id
}

// writeCycloneDX writes a CycloneDX 1.6 JSON SBOM: the image as metadata.component, each package a component
// with its purl and where it was found (layer, path) as properties.
func writeCycloneDX(path string, t *target, pkgs []Package, now time.Time) error {
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + uuidFor(t.ref+t.digest+now.String())
	image := cdx.Component{Type: cdx.ComponentTypeContainer, Name: t.name, Version: t.version(), BOMRef: "image", PackageURL: imagePURL(t)}
	bom.Metadata = &cdx.Metadata{Timestamp: now.UTC().Format(time.RFC3339), Component: &image,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: toolName}}}}
	comps := make([]cdx.Component, 0, len(pkgs))
	var refs []string
	for i, p := range pkgs {
		ref := fmt.Sprintf("pkg-%d", i+1)
		refs = append(refs, ref)
		comps = append(comps, cdx.Component{Type: cdx.ComponentTypeLibrary, BOMRef: ref, Name: p.Name, Version: p.Version, PackageURL: p.PURL,
			Properties: &[]cdx.Property{{Name: "scribe:package:type", Value: p.Type}, {Name: "scribe:layer", Value: strconv.Itoa(p.Layer + 1)},
				{Name: "scribe:location", Value: p.Path}}})
	}
	bom.Components = &comps
	bom.Dependencies = &[]cdx.Dependency{{Ref: "image", Dependencies: &refs}}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := cdx.NewBOMEncoder(f, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	return enc.EncodeVersion(bom, cdx.SpecVersion1_6)
}

// writeSPDX writes an SPDX 2.3 JSON document that DESCRIBES the image, which CONTAINS each package.
func writeSPDX(path string, t *target, pkgs []Package, now time.Time) error {
	doc := &spdx.Document{
		SPDXVersion: spdx.Version, DataLicense: spdx.DataLicense, SPDXIdentifier: "DOCUMENT", DocumentName: t.name,
		DocumentNamespace: "https://spdx.org/spdxdocs/" + t.name + "-" + uuidFor(t.ref+t.digest+now.String()),
		CreationInfo: &spdx.CreationInfo{Created: now.UTC().Format(time.RFC3339),
			Creators: []common.Creator{{CreatorType: "Tool", Creator: toolName}}},
	}
	image := &spdx.Package{PackageName: t.name, PackageSPDXIdentifier: "image", PackageVersion: t.version(),
		PackageDownloadLocation: "NOASSERTION", PrimaryPackagePurpose: "CONTAINER"}
	if u := imagePURL(t); u != "" {
		image.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: u}}
	}
	doc.Packages = append(doc.Packages, image)
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{RefA: common.MakeDocElementID("", "DOCUMENT"),
		RefB: common.MakeDocElementID("", "image"), Relationship: "DESCRIBES"})
	for i, p := range pkgs {
		id := common.ElementID(fmt.Sprintf("pkg-%d", i+1))
		doc.Packages = append(doc.Packages, &spdx.Package{PackageName: p.Name, PackageSPDXIdentifier: id, PackageVersion: p.Version,
			PackageDownloadLocation: "NOASSERTION", PrimaryPackagePurpose: "LIBRARY", PackageSourceInfo: fmt.Sprintf("layer %d: %s", p.Layer+1, p.Path),
			PackageExternalReferences: []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p.PURL}}})
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{RefA: common.MakeDocElementID("", "image"),
			RefB: common.MakeDocElementID("", string(id)), Relationship: "CONTAINS"})
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return spdxjson.Write(doc, f, spdxjson.Indent("  "))
}

// writeSBOMs writes the formats asked for into dir as stem-sbom.*.json; it returns their paths.
func writeSBOMs(dir, stem, format string, t *target, pkgs []Package, now time.Time) ([]string, error) {
	var paths []string
	if format == "cyclonedx" || format == "both" {
		p := filepath.Join(dir, stem+"-sbom.cdx.json")
		if err := writeCycloneDX(p, t, pkgs, now); err != nil {
			return nil, fmt.Errorf("writing %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	if format == "spdx" || format == "both" {
		p := filepath.Join(dir, stem+"-sbom.spdx.json")
		if err := writeSPDX(p, t, pkgs, now); err != nil {
			return nil, fmt.Errorf("writing %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
