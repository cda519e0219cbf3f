// The demo backend: a small HTTP API that answers /health and /api/hello, with -healthcheck for the image's
// HEALTHCHECK (the image is FROM scratch: no shell, no wget).
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

var version = "dev"

func main() {
	addr := flag.String("addr", ":8000", "listen address")
	healthcheck := flag.Bool("healthcheck", false, "probe the running server's /health and exit 0 when it answers 200")
	flag.Parse()
	if *healthcheck {
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get("http://127.0.0.1" + *addr + "/health")
		if err != nil || resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/api/hello", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"hello": "world", "version": version})
	})
	log.Printf("backend %s listening on %s", version, *addr)
	log.Fatal(http.ListenAndServe(*addr, h2c.NewHandler(mux, &http2.Server{})))
}
