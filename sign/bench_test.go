package sign

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// BenchmarkSignRecursiveVsCosign signs a two-platform index in the real registry: ours recursively (the index
// and both platforms: three signatures) against `cosign sign --key --tlog-upload=false` of the index alone.
// Both decrypt the same cosign key file each time.
func BenchmarkSignRecursiveVsCosign(b *testing.B) {
	v2 := os.Getenv("SCRIBE_COSIGN_V2")
	_, err := os.Stat(v2)
	testenv.Need(b, "cosign v2", err)
	reg := testenv.NeedRegistry(b)
	dir := b.TempDir()
	if out, err := cosignB(v2, dir, "generate-key-pair"); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "cosign.key"))
	repo := testenv.Unique(b, reg)
	b.Run("scribe-recursive-3-signatures", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			d := testenv.Push(b, fmt.Sprintf("%s:ours-%d", repo, i), testenv.Index(b, "linux/amd64", fmt.Sprintf("linux/arm64/v%d", 8+i)))
			if r := runSign(b, map[string]string{"image": repo + "@" + d.String(), "key": string(key), "key-password": "cosign test password", "tlog-upload": "false"}); r.code != 0 {
				b.Fatal(r.log)
			}
		}
	})
	b.Run("cosign-1-signature", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			d := testenv.Push(b, fmt.Sprintf("%s:cosign-%d", repo, i), testenv.Index(b, "linux/amd64", fmt.Sprintf("linux/s390x/v%d", i)))
			if out, err := cosignB(v2, dir, "sign", "--key", "cosign.key", "--tlog-upload=false", repo+"@"+d.String()); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
	})
}
