package scan

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	"github.com/knqyf263/go-rpmdb/pkg/bdb"
	"github.com/package-url/packageurl-go"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver go-rpmdb reads rpmdb.sqlite with, in pure Go
)

// rpmDatabases are the files rpm keeps its database in, where syft looks for them (/var/lib/rpm,
// /usr/lib/sysimage/rpm, /usr/share/rpm): sqlite's rpmdb.sqlite (RHEL 9 and its rebuilds, Fedora 33 and later),
// ndb's Packages.db (SUSE 15) and Berkeley DB's Packages (RHEL and CentOS 7 and 8, Amazon Linux 2). Fedora 36
// and SUSE keep theirs in /usr/lib/sysimage/rpm and make /var/lib/rpm a symlink to it, which layers do not
// follow, so both places are read. rpm reads one database; when an image has several (a conversion's leftover),
// the first here is taken: the newest format, then the usual place.
var rpmDatabases = []string{
	"/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite", "/usr/share/rpm/rpmdb.sqlite",
	"/usr/lib/sysimage/rpm/Packages.db", "/var/lib/rpm/Packages.db", "/usr/share/rpm/Packages.db",
	"/var/lib/rpm/Packages", "/usr/lib/sysimage/rpm/Packages", "/usr/share/rpm/Packages",
}

// rpmDatabasePlaces says where rpmDatabases are, for messages.
const rpmDatabasePlaces = "rpmdb.sqlite, Packages.db or Packages in /var/lib/rpm, /usr/lib/sysimage/rpm or /usr/share/rpm"

// isRPMDatabase tells the files wanted reads for the rpm cataloguer.
func isRPMDatabase(p string) bool { return slices.Contains(rpmDatabases, p) }

// rpmDatabase is the path of the image's rpm database, "" when it has none.
func rpmDatabase(fs *fileSystem) string {
	for _, p := range rpmDatabases {
		if _, ok := fs.files[p]; ok {
			return p
		}
	}
	return ""
}

// rpmPackages are the packages of an rpm database, in the distribution's ecosystem ("" when it is unknown, as
// Amazon Linux is: not assessed rather than matched against Red Hat's records), named as syft names them.
func rpmPackages(f found, d Distro) ([]Package, error) {
	infos, err := readRPMDB(f.data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	eco := d.ecosystemFor("rpm")
	var out []Package
	for _, info := range infos {
		if info == nil || info.Name == "" || info.Version == "" {
			continue
		}
		out = append(out, Package{Name: info.Name, Version: rpmVersion(info, eco), Type: "rpm", Ecosystem: eco,
			PURL: rpmPURL(info, d), Layer: f.layer, Path: f.path})
	}
	return out, nil
}

// rpmVersion is the version as the ecosystem's OSV records write theirs, [epoch:]version-release. Red Hat's,
// AlmaLinux's and Rocky Linux's records carry the epoch ("1:3.0.7-16.el9_2"), SUSE's do not, so a SUSE
// package's version has none: osv-scanner v2.6.0 does the same (internal/imodels, ecosystemEncodesEpoch). An
// epoch of 0 is left out, as rpm's version ordering reads a missing epoch as 0 ("0:2.34-60.el9_2.7" in a record
// equals 2.34-60.el9_2.7). A distribution OSV does not know keeps a non-zero epoch, as syft and rpm print it.
func rpmVersion(info *rpmdb.PackageInfo, eco string) string {
	v := versionRelease(info)
	suse := strings.HasPrefix(eco, "SUSE:") || strings.HasPrefix(eco, "openSUSE:")
	if info.Epoch != nil && *info.Epoch != 0 && !suse {
		v = strconv.Itoa(*info.Epoch) + ":" + v
	}
	return v
}

// rpmPURL is the package's purl as syft writes it (pkg:rpm/<namespace>/<name>@<version>-<release>): the
// distribution's ID as namespace, Red Hat's "redhat" and openSUSE's "opensuse" as the purl-spec's examples
// write them; the epoch a qualifier, not part of the version (purl-spec, PURL-TYPES "rpm"); the source rpm as
// syft's "upstream"; the release as "distro".
func rpmPURL(info *rpmdb.PackageInfo, d Distro) string {
	ns := d.ID
	switch {
	case ns == "rhel":
		ns = "redhat"
	case strings.HasPrefix(ns, "opensuse"):
		ns = "opensuse"
	}
	q := map[string]string{}
	if info.Arch != "" {
		q["arch"] = info.Arch
	}
	if info.Epoch != nil {
		q["epoch"] = strconv.Itoa(*info.Epoch)
	}
	if info.SourceRpm != "" && info.SourceRpm != "(none)" {
		q["upstream"] = info.SourceRpm
	}
	if d.ID != "" && d.VersionID != "" {
		q["distro"] = d.ID + "-" + d.VersionID
	}
	return packageurl.NewPackageURL("rpm", ns, info.Name, versionRelease(info), packageurl.QualifiersFromMap(q), "").ToString()
}

func versionRelease(info *rpmdb.PackageInfo) string {
	if info.Release == "" {
		return info.Version
	}
	return info.Version + "-" + info.Release
}

// readRPMDB lists the packages of an rpm database held in memory, in any of the three formats. The library
// reads files only, so the database goes to a directory of its own for the time of the read: sqlite opens a
// write-ahead log and shared memory beside a database in WAL mode, as rpm writes them. An image is input the
// scan does not control: the database is checked first (rpmHeaderBlobs), and the library's panics in this
// goroutine are errors.
func readRPMDB(data []byte) (pkgs []*rpmdb.PackageInfo, err error) {
	dir, err := os.MkdirTemp("", "scribe-rpmdb-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "rpmdb")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			pkgs, err = nil, fmt.Errorf("malformed rpm database: %v", r)
		}
	}()
	blobs, err := rpmHeaderBlobs(p, data)
	if err == nil {
		err = checkHeaderBlobs(blobs)
	}
	if err != nil {
		return nil, err
	}
	db, err := rpmdb.Open(p)
	if err != nil {
		return nil, fmt.Errorf("not an rpm database (sqlite, ndb or Berkeley DB): %w", err)
	}
	defer db.Close()
	pkgs, err = db.ListPackages()
	if err != nil {
		return nil, fmt.Errorf("malformed rpm database: %w", err)
	}
	return pkgs, nil
}

// rpmHeaderBlobs are the package headers of an rpm database, read with bounds. go-rpmdb reads ndb and Berkeley DB
// in goroutines of its own, where a panic cannot be recovered, follows Berkeley DB's overflow chains without a
// bound (a page of another type in one loops it forever) and sizes buffers from lengths the file gives. So the
// scan walks the same structures first, the formats told apart as the library tells them, and hands the library
// only a database it reads to the end.
func rpmHeaderBlobs(path string, data []byte) ([][]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte("SQLite format 3\x00")):
		return sqliteBlobs(path)
	case len(data) >= 16 && string(data[:4]) == "RpmP" && binary.LittleEndian.Uint32(data[4:]) == 0 &&
		binary.LittleEndian.Uint32(data[12:]) != 0:
		return ndbBlobs(data)
	}
	return bdbBlobs(data)
}

func sqliteBlobs(path string) ([][]byte, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query("SELECT blob FROM Packages")
	if err != nil {
		return nil, fmt.Errorf("not an rpm database: %w", err)
	}
	defer rows.Close()
	var blobs [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("malformed rpm database: %w", err)
		}
		blobs = append(blobs, b)
	}
	return blobs, rows.Err()
}

// ndbBlobs reads rpm's ndb Packages.db (lib/backend/ndb/rpmpkg.c): a 32-byte header, slot pages of 16-byte
// slots ("Slot", package index, block offset, block count), and at each used slot's block (16 bytes each) a
// blob header ("BlbS", package index, checksum, length) and the header.
func ndbBlobs(data []byte) ([][]byte, error) {
	le := binary.LittleEndian
	pages := int(le.Uint32(data[12:]))
	if pages > 2048 || len(data) < pages*4096 {
		return nil, fmt.Errorf("malformed rpm database: ndb with %d slot pages in %d bytes", pages, len(data))
	}
	var blobs [][]byte
	for off := 32; off < pages*4096; off += 16 {
		slot := data[off : off+16]
		if string(slot[:4]) != "Slot" {
			return nil, fmt.Errorf("malformed rpm database: ndb slot at %d", off)
		}
		pkg, blk := le.Uint32(slot[4:]), int64(le.Uint32(slot[8:]))*16
		if pkg == 0 {
			continue
		}
		if blk+16 > int64(len(data)) || string(data[blk:blk+4]) != "BlbS" || le.Uint32(data[blk+4:]) != pkg ||
			int64(le.Uint32(data[blk+12:])) > int64(len(data))-blk-16 {
			return nil, fmt.Errorf("malformed rpm database: ndb blob of package %d", pkg)
		}
		blobs = append(blobs, data[blk+16:blk+16+int64(le.Uint32(data[blk+12:]))])
	}
	return blobs, nil
}

// bdbBlobs reads Berkeley DB's hash database as go-rpmdb does: every hash page's values that are stored on
// overflow pages, each the chain of pages it starts. Each chain is bounded by the file's pages, each page of it
// must be an overflow page, and the values together by the file's size, as in a real database each chain holds
// one value.
func bdbBlobs(data []byte) ([][]byte, error) {
	if len(data) < 512 {
		return nil, errors.New("not an rpm database (sqlite, ndb or Berkeley DB)")
	}
	meta, err := bdb.ParseHashMetadataPage(data[:512])
	if err != nil {
		return nil, fmt.Errorf("not an rpm database (sqlite, ndb or Berkeley DB): %w", err)
	}
	size, pages := int(meta.PageSize), int64(meta.LastPageNo)+1
	if size < 512 || size > 65536 || size&(size-1) != 0 || pages > int64(len(data)/size) {
		return nil, fmt.Errorf("malformed rpm database: Berkeley DB of %d pages of %d bytes in %d bytes", pages, size, len(data))
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if meta.Swapped {
		order = binary.BigEndian
	}
	var blobs [][]byte
	total := 0
	for p := 0; p < int(pages); p++ {
		page := data[p*size : (p+1)*size]
		h, err := bdb.ParseHashPage(page, meta.Swapped)
		if err != nil {
			return nil, err
		}
		if h.PageType != bdb.HashUnsortedPageType && h.PageType != bdb.HashPageType {
			continue
		}
		n := int(h.NumEntries)
		if n%2 != 0 || bdb.PageHeaderSize+2*n > size {
			return nil, fmt.Errorf("malformed rpm database: Berkeley DB page %d of %d entries", p, n)
		}
		for i := 1; i < n; i += 2 { // keys and values alternate: the values
			off := int(order.Uint16(page[bdb.PageHeaderSize+2*i:]))
			if off >= size || page[off] == bdb.HashOffIndexPageType && off+bdb.HashOffPageSize > size {
				return nil, fmt.Errorf("malformed rpm database: Berkeley DB page %d entry %d at %d", p, i, off)
			}
			if page[off] != bdb.HashOffIndexPageType { // a value on the page itself, too small to be a header
				continue
			}
			blob, err := bdbOverflow(data, order.Uint32(page[off+4:]), size, pages, meta.Swapped)
			if err != nil {
				return nil, fmt.Errorf("malformed rpm database: Berkeley DB page %d entry %d: %w", p, i, err)
			}
			if total += len(blob); total > len(data) {
				return nil, fmt.Errorf("malformed rpm database: Berkeley DB values of more than its %d bytes", len(data))
			}
			blobs = append(blobs, blob)
		}
	}
	return blobs, nil
}

// bdbOverflow is the value an overflow chain holds, from its first page.
func bdbOverflow(data []byte, pg uint32, size int, pages int64, swapped bool) ([]byte, error) {
	var blob []byte
	for hops := int64(0); pg != 0; hops++ {
		if hops >= pages || int64(pg) >= pages {
			return nil, fmt.Errorf("overflow chain past the file's %d pages", pages)
		}
		page := data[int(pg)*size : (int(pg)+1)*size]
		h, err := bdb.ParseHashPage(page, swapped)
		if err != nil {
			return nil, err
		}
		if h.PageType != bdb.OverflowPageType {
			return nil, fmt.Errorf("page %d of an overflow chain is of type %d", pg, h.PageType)
		}
		end := size
		if h.NextPageNo == 0 {
			end = bdb.PageHeaderSize + int(h.FreeAreaOffset)
		}
		if end > size {
			return nil, fmt.Errorf("overflow page %d holds %d bytes", pg, end)
		}
		blob = append(blob, page[bdb.PageHeaderSize:end]...)
		pg = h.NextPageNo
	}
	return blob, nil
}

// checkHeaderBlobs checks each header as rpm does before it reads a tag (lib/header.c, hdrblobInit and
// hdrblobVerifyInfo): at most 0xffff tags and 256 MiB of data, within the blob; each tag's data after the
// previous tag's (the region tag first, whose data ends the header), of a known type, its strings ended. go-rpmdb
// sizes its index from the tag count before it checks it, and lost the order check to a shadowed variable:
// a header of overlapping tags, or of a string array without its NULs, keeps it scanning for hours.
func checkHeaderBlobs(blobs [][]byte) error {
	for _, b := range blobs {
		if err := checkHeaderBlob(b); err != nil {
			return fmt.Errorf("malformed rpm database: a package header %w", err)
		}
	}
	return nil
}

// rpmTypeSizes are the sizes of a value of each of rpm's tag types (lib/header.c typeSizes); -1 for the strings.
var rpmTypeSizes = [...]int{0, 1, 1, 2, 4, 8, -1, 1, -1, -1}

func checkHeaderBlob(b []byte) error {
	be := binary.BigEndian
	if len(b) < 8 {
		return fmt.Errorf("of %d bytes", len(b))
	}
	il, dl := uint64(be.Uint32(b)), uint64(be.Uint32(b[4:]))
	if il == 0 || il > 0xffff || dl > 256<<20 || 8+16*il+dl > uint64(len(b)) {
		return fmt.Errorf("of %d tags and %d bytes of data in %d bytes", il, dl, len(b))
	}
	data := b[8+16*il : 8+16*il+dl]
	first := 0
	if tag := be.Uint32(b[8:]); tag >= 61 && tag <= 63 { // HEADERIMAGE, HEADERSIGNATURES, HEADERIMMUTABLE
		first = 1
	}
	end := uint64(0)
	for i := first; i < int(il); i++ {
		e := b[8+16*i : 8+16*i+16]
		typ, off, count := be.Uint32(e[4:]), uint64(be.Uint32(e[8:])), uint64(be.Uint32(e[12:]))
		if typ >= uint32(len(rpmTypeSizes)) || off < end || off > dl {
			return fmt.Errorf("tag %d: type %d at %d, after data up to %d", be.Uint32(e), typ, off, end)
		}
		n, ok := tagLength(data[off:], rpmTypeSizes[typ], count)
		if !ok {
			return fmt.Errorf("tag %d: %d values of type %d past the data", be.Uint32(e), count, typ)
		}
		end = off + n
	}
	return nil
}

// tagLength is the length of count values of a size (-1: strings, each ended by a NUL) at the start of data.
func tagLength(data []byte, size int, count uint64) (uint64, bool) {
	if size >= 0 {
		n := uint64(size) * count
		return n, count < 1<<32 && n <= uint64(len(data))
	}
	n := 0
	for ; count > 0; count-- {
		i := bytes.IndexByte(data[n:], 0)
		if i < 0 {
			return 0, false
		}
		n += i + 1
	}
	return uint64(n), true
}
