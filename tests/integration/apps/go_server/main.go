// go_server: an unmodified Go net/http server, as Go services are written: it
// listens with net.Listen (raw syscalls, no libc), answers every request with
// "ok pid=P gen=G end" (the body apps/reload_load.py expects), and drains with
// http.Server.Shutdown on SIGTERM.
//
// Usage: go_server ADDR, e.g. ":8080" (dual-stack) or "127.0.0.1:8080". It
// reads the generation G once at start from $TP_GEN_FILE (else 0) and appends
// "start pid=P gen=G" to $TP_EVENTS when set. Prints "listening pid=<pid>
// addr=<addr>" once it listens. GET /?sleep=MS answers after MS milliseconds.
// With LISTEN_FDS=1 (and LISTEN_PID its pid) it serves fd 3 instead (cinit
// --listen; the benchmark's baseline).
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go_server ADDR")
		os.Exit(2)
	}
	var listener net.Listener
	var err error
	if os.Getenv("LISTEN_FDS") == "1" && os.Getenv("LISTEN_PID") == fmt.Sprint(os.Getpid()) {
		// systemd socket activation (cinit --listen): the socket is fd 3.
		listener, err = net.FileListener(os.NewFile(3, "LISTEN_FDS"))
	} else {
		listener, err = net.Listen("tcp", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_server:", err)
		os.Exit(1)
	}
	pid := os.Getpid()
	gen := "0"
	if path := os.Getenv("TP_GEN_FILE"); path != "" {
		if data, err := os.ReadFile(path); err == nil {
			gen = strings.TrimSpace(string(data))
		}
	}
	if path := os.Getenv("TP_EVENTS"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, "start pid=%d gen=%s\n", pid, gen)
			f.Close()
		}
	}
	body := fmt.Sprintf("ok pid=%d gen=%s end\n", pid, gen)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if ms := r.URL.Query().Get("sleep"); ms != "" {
			var n int
			fmt.Sscan(ms, &n)
			time.Sleep(time.Duration(n) * time.Millisecond)
		}
		w.Header().Set("content-type", "text/plain")
		fmt.Fprint(w, body)
	})
	server := &http.Server{Handler: mux}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx)
		close(done)
	}()
	fmt.Printf("listening pid=%d addr=%s\n", pid, listener.Addr())
	if err := server.Serve(listener); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "go_server:", err)
		os.Exit(1)
	}
	<-done
}
