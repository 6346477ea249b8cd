//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDemoDir takes dir's demo lock with flock, or says which process
// holds it. The returned file keeps the lock until closed; the kernel
// releases it when the process ends however it ends, so a stale file
// never blocks the next demo.
func lockDemoDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, demoLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("demo: open the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another process"
			if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) != "" {
				holder = "process " + strings.TrimSpace(string(b))
			}
			return nil, fmt.Errorf("demo: another roster demo (%s) is running in %s; stop it (Ctrl-C) first, or pass another --data-dir", holder, dir)
		}
		return nil, fmt.Errorf("demo: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
