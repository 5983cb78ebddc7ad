package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/stratavideo/strata/cluster"
)

// A backup is a tar file: the replicated state as a bbolt image, then,
// with --media, the node's local blob folders.
const (
	backupStateName = "strata/fsm.db"
	backupBlobsDir  = "strata/blobs/"
)

// registerBackupCommands adds `strata backup` and `strata restore`.
func registerBackupCommands() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "backup",
		Usage: "[--media --data DIR] [--address ADMIN] FILE",
		Short: "Writes a consistent copy of the cluster's metadata (and this node's media)",
		Long: `Asks the node running beside it ($STRATA_ADMIN, or --address) for a
consistent copy of the replicated state: videos, jobs, accounts, keys. The
copy holds every write acknowledged before it began, wherever it was made.

With --media it adds the blobs kept on this node's disk (DIR/blobs, DIR
being the node's data folder, $STRATA_DATA by default): on a cluster with
local disks, run it on a node holding a copy of everything, or back up the
object store itself. FILE "-" writes to standard output.`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("address", "", "the node's admin endpoint (default $STRATA_ADMIN or localhost:2019)")
			cmd.Flags().Bool("media", false, "add the media and uploads kept on this node's disk")
			cmd.Flags().String("data", "", "the node's data folder, for --media (default $STRATA_DATA or ./strata-data)")
			cmd.Args = cobra.ExactArgs(1)
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(runBackup)
		},
	})
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "restore",
		Usage: "[--data DIR] [--node-id ID] FILE",
		Short: "Makes a new node's data folder from a backup",
		Long: `Restores a backup made by 'strata backup' into a new data folder (--data,
$STRATA_DATA by default), with the node stopped. The node then starts as a
one-node cluster holding the backup's state; other nodes join it as usual.
The folder must not hold a node already. Media in the backup goes back
into the folder's blob store and this node becomes its holder.`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("data", "", "the new node's data folder (default $STRATA_DATA or ./strata-data)")
			cmd.Flags().String("node-id", "", "the node ID its config names, if any")
			cmd.Args = cobra.ExactArgs(1)
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(runRestore)
		},
	})
}

func dataDir(fl caddycmd.Flags) string {
	if d := fl.String("data"); d != "" {
		return d
	}
	if d := os.Getenv("STRATA_DATA"); d != "" {
		return d
	}
	return "./strata-data"
}

func runBackup(fl caddycmd.Flags) (int, error) {
	name := fl.Arg(0)
	var out io.Writer = os.Stdout
	var f *os.File
	if name != "-" {
		var err error
		// A new file beside the target, renamed when complete: a failed
		// backup never leaves a file that looks whole.
		if f, err = os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".partial-*"); err != nil {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("backup: %w", err)
		}
		defer func() {
			f.Close()
			os.Remove(f.Name())
		}()
		out = f
	}
	tw := tar.NewWriter(out)
	addr := adminAddress(fl)
	resp, err := caddycmd.AdminAPIRequest(addr, http.MethodGet, "/strata/backup", nil, nil)
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("backup from %s: %w", addr, err)
	}
	defer resp.Body.Close()
	// The tar header needs the size first: spool the state to a file.
	spool, err := os.CreateTemp("", "strata-backup-*")
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("backup: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	size, err := io.Copy(spool, resp.Body)
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("backup: reading the state from %s: %w", addr, err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: backupStateName, Mode: 0o600, Size: size}); err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	if _, err := io.Copy(tw, spool); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("backup: %w", err)
	}
	files := 0
	if fl.Bool("media") {
		if files, err = addBlobs(tw, filepath.Join(dataDir(fl), "blobs")); err != nil {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("backup: media: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("backup: %w", err)
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("backup: %w", err)
		}
		if err := os.Rename(f.Name(), name); err != nil {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("backup: %w", err)
		}
		fmt.Fprintf(os.Stderr, "backup of node %s at log index %s: %d bytes of state, %d media files, in %s\n",
			resp.Header.Get("X-Strata-Node"), resp.Header.Get("X-Strata-Applied"), size, files, name)
	}
	return caddy.ExitCodeSuccess, nil
}

// addBlobs adds every file under root (the node's blob folders).
func addBlobs(tw *tar.Writer, root string) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return fs.SkipAll // no local blobs: object storage
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: backupBlobsDir + filepath.ToSlash(rel), Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, f, st.Size()); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}

func runRestore(fl caddycmd.Flags) (int, error) {
	in, err := os.Open(fl.Arg(0))
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	dir := dataDir(fl)
	if _, err := os.Stat(filepath.Join(dir, "fsm.db")); err == nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("restore: %s already holds a node; restore into a new folder", dir)
	}
	tr := tar.NewReader(in)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != backupStateName {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("restore: %s is not a Strata backup (%v)", fl.Arg(0), err)
	}
	// The blobs follow the state in the tar, but the state must be
	// restored first (it refuses a folder that holds a node).
	var media bool
	cfg := cluster.RestoreConfig{DataDir: dir, NodeID: fl.String("node-id"),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	spool, err := os.CreateTemp("", "strata-restore-*")
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	if _, err := io.Copy(spool, tr); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("restore: %w", err)
	}
	blobs := filepath.Join(dir, "blobs")
	files := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("restore: the backup is damaged: %w", err)
		}
		rel, ok := strings.CutPrefix(hdr.Name, backupBlobsDir)
		if !ok || hdr.Typeflag != tar.TypeReg || !filepath.IsLocal(filepath.FromSlash(rel)) {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("restore: unexpected entry %q in the backup", hdr.Name)
		}
		dst := filepath.Join(blobs, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return caddy.ExitCodeFailedStartup, err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("restore: %w", err)
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("restore: %w", err)
		}
		media = true
		files++
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	cfg.WithMedia = media
	if err := cluster.RestoreBackup(cfg, spool); err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	fmt.Fprintf(os.Stderr, "restored into %s (%d media files); start the node with this data folder\n", dir, files)
	return caddy.ExitCodeSuccess, nil
}
