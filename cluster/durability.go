package cluster

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// bootIDPath names this boot of the Linux kernel; it changes at every boot.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// trustStore decides how the FSM's bbolt file is written, and whether the
// file can be trusted at start-up.
//
// The Raft log is fsynced on every append; it, not the FSM file, makes a
// write durable (as etcd's WAL does for its bbolt backend). The FSM file is
// written without fsync, which takes two of them off every write. That is
// safe against the process dying (kill -9, a panic, the OOM killer): the
// kernel still holds every page written, and bbolt's copy-on-write leaves
// the last committed meta page valid. It is not safe against the machine
// losing power. So a state file records "open <boot id>" while the store is
// open and "clean" after a clean close. A store left open under another
// boot (the machine went down with it) is thrown away, with the search
// index, and rebuilt from the last snapshot and the log.
//
// Where there is no boot id to tell (not Linux), the store keeps fsync.
// It returns whether to skip fsync and the function that marks a clean
// close.
func trustStore(dir string, log *slog.Logger) (noSync bool, clean func() error, err error) {
	state := filepath.Join(dir, "fsm.state")
	bootRaw, bootErr := os.ReadFile(bootIDPath)
	boot := strings.TrimSpace(string(bootRaw))
	if bootErr != nil || boot == "" {
		return false, func() error { return nil }, nil
	}
	prev, err := os.ReadFile(state)
	switch {
	case err == nil && bytes.HasPrefix(prev, []byte("open ")) && strings.TrimSpace(string(prev[5:])) != boot:
		log.Warn("the machine went down with the store open; rebuilding it from the snapshot and the log")
		for _, p := range []string{"fsm.db", "index"} {
			if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
				return false, nil, fmt.Errorf("discard untrusted %s: %w", p, err)
			}
		}
	case err != nil && !os.IsNotExist(err):
		return false, nil, fmt.Errorf("read %s: %w", state, err)
	}
	if err := writeSynced(state, "open "+boot+"\n"); err != nil {
		return false, nil, err
	}
	return true, func() error { return writeSynced(state, "clean\n") }, nil
}

// writeSynced replaces path with content, durably.
func writeSynced(path, content string) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
