package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// regInput is one operation on a register: a video's description.
type regInput struct {
	key   string
	write bool
	value string
}

// registerModel is a set of independent registers, checked per key.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(regInput).key
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in := input.(regInput)
		if in.write {
			return true, in.value
		}
		return output.(string) == state.(string), state
	},
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.write {
			return fmt.Sprintf("write %s=%q", in.key, in.value)
		}
		return fmt.Sprintf("read %s -> %q", in.key, output)
	},
}

// TestMetadataAPILinearizable records a history of PATCH writes and
// consistent GET reads through every node of a 3-origin cluster while
// nodes are killed, restarted and frozen, and checks it with porcupine.
// A write whose answer was lost may have happened at any time after it
// was sent; a read that failed tells nothing and is left out.
func TestMetadataAPILinearizable(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	nodes := map[string]*clusterNode{}
	startThreeOrigins(t, dir, nodes)
	var keys []string
	for i := range 4 {
		keys = append(keys, uploadWhole(t, nodes["o1"].node, nil, fmt.Sprintf("register %d", i)))
	}
	live := func() []*clusterNode { return running(&mu, nodes) }
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	const never = int64(1) << 62

	var hmu sync.Mutex
	var history []porcupine.Operation
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for c := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ns := live()
				if len(ns) == 0 {
					continue
				}
				n := ns[rand.IntN(len(ns))]
				key := keys[rand.IntN(len(keys))]
				op := porcupine.Operation{ClientId: c}
				if rand.IntN(2) == 0 {
					val := fmt.Sprintf("c%d-%d", c, i)
					op.Input = regInput{key: key, write: true, value: val}
					op.Call = now()
					req, _ := http.NewRequest(http.MethodPatch, n.base+"/api/v1/videos/"+key,
						strings.NewReader(fmt.Sprintf(`{"description":%q}`, val)))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					op.Return = now()
					if err == nil {
						resp.Body.Close()
					}
					switch {
					case err == nil && resp.StatusCode == http.StatusOK:
					case err == nil && resp.StatusCode < 500:
						continue // refused before it was applied
					default:
						op.Return = never // outcome unknown
					}
				} else {
					op.Input = regInput{key: key}
					op.Call = now()
					var v video
					req, _ := http.NewRequest(http.MethodGet, n.base+"/api/v1/videos/"+key+"?consistent=1", nil)
					resp, err := client.Do(req)
					if err != nil {
						continue
					}
					ok := resp.StatusCode == http.StatusOK && decodeJSON(resp, &v) == nil
					resp.Body.Close()
					op.Return = now()
					if !ok {
						continue
					}
					op.Output = v.Description
				}
				hmu.Lock()
				history = append(history, op)
				hmu.Unlock()
			}
		}()
	}

	// Faults: kill -9 and restart a node, freeze one for a while.
	for round := range 3 {
		time.Sleep(1500 * time.Millisecond) // let operations run between faults (load, not a wait for a condition)
		ns := live()
		victim := ns[rand.IntN(len(ns))]
		if round%2 == 0 {
			t.Logf("fault %d: kill -9 %s", round, victim.spec.name)
			victim.kill()
			time.Sleep(time.Second) // the node stays down for a while (fault duration)
			restarted := victim.restart(t, dir)
			mu.Lock()
			nodes[victim.spec.name] = restarted
			mu.Unlock()
		} else {
			t.Logf("fault %d: freeze %s", round, victim.spec.name)
			victim.cmd.Process.Signal(syscall.SIGSTOP)
			time.Sleep(2 * time.Second) // the freeze lasts this long (fault duration)
			victim.cmd.Process.Signal(syscall.SIGCONT)
		}
	}
	time.Sleep(time.Second) // operations after the last fault
	close(stop)
	wg.Wait()

	reads, writes := 0, 0
	for _, op := range history {
		if op.Input.(regInput).write {
			writes++
		} else {
			reads++
		}
	}
	t.Logf("history: %d reads, %d writes", reads, writes)
	if reads < 50 || writes < 50 {
		t.Fatalf("too few operations to say anything: %d reads, %d writes", reads, writes)
	}
	// The checker itself must be able to fail: a read, after everything,
	// of a value nobody wrote is not linearizable.
	bogus := append(append([]porcupine.Operation(nil), history...), porcupine.Operation{
		ClientId: 99, Input: regInput{key: keys[0]}, Output: "never written", Call: now(), Return: now() + 1})
	if porcupine.CheckOperationsTimeout(registerModel, bogus, time.Minute) != porcupine.Illegal {
		t.Fatal("porcupine accepted a history with an impossible read")
	}
	res, info := porcupine.CheckOperationsVerbose(registerModel, history, 2*time.Minute)
	if res != porcupine.Ok {
		out := dir + "/linearizability.html"
		if err := porcupine.VisualizePath(registerModel, info, out); err == nil {
			t.Logf("visualisation: %s", out)
		}
		t.Fatalf("the history is %s: the metadata API is not linearizable", res)
	}
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
