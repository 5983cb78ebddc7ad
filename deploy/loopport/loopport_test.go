package loopport

import (
	"net"
	"strconv"
	"testing"
)

// TestFreeNeverRepeats: many ports in a row are distinct and bindable,
// which is what lets a launcher give each node an HTTP and a cluster port.
func TestFreeNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for range 300 {
		p, err := Free()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
	p, err := Free()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("port %d is not free: %v", p, err)
	}
	l.Close()
}
