package cluster

import (
	"reflect"
	"testing"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// TestEveryResultForwards: every command's apply result survives the trip
// from the leader to the follower that forwarded the write. (Account
// writes on followers failed before: their results had no wire name.)
func TestEveryResultForwards(t *testing.T) {
	cmdType := reflect.TypeOf((*command.Command)(nil)).Elem()
	errType := reflect.TypeOf((*error)(nil)).Elem()
	tx := reflect.TypeOf((*store.Tx)(nil))
	checked := 0
	for i := range tx.NumMethod() {
		m := tx.Method(i)
		ft := m.Type
		if ft.NumIn() != 2 || !ft.In(1).Implements(cmdType) || ft.NumOut() != 2 || ft.Out(1) != errType {
			continue
		}
		checked++
		v := reflect.New(ft.Out(0)).Elem()
		if v.Kind() == reflect.Pointer {
			v = reflect.New(ft.Out(0).Elem())
		}
		name, raw, err := encodeValue(v.Interface())
		if err != nil {
			t.Errorf("%s returns %s: %v", m.Name, ft.Out(0), err)
			continue
		}
		back, err := decodeValue(name, raw)
		if err != nil || reflect.TypeOf(back) != ft.Out(0) {
			t.Errorf("%s: %s came back as %T (%v)", m.Name, ft.Out(0), back, err)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d store methods look like command handlers", checked)
	}
	// A nil result (a no-op) travels as nothing.
	if name, _, err := encodeValue((*model.Video)(nil)); name != "" || err != nil {
		t.Fatalf("nil video: %q %v", name, err)
	}
}
