package cluster

import (
	"os"
	"path/filepath"
)

func removeAll(dir, name string) error { return os.RemoveAll(filepath.Join(dir, name)) }
