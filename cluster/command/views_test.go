package command

import (
	"reflect"
	"testing"
	"time"
)

func TestAddViewsRoundTrip(t *testing.T) {
	c := &AddViews{Stamp: Stamp{time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)},
		Views: []VideoViews{{ID: "a", N: 3}, {ID: "b", N: 1 << 33}}}
	raw, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	if Type(raw[0]) != TypeAddViews || raw[1] != 1 {
		t.Fatalf("header = %v", raw[:2])
	}
	got, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("decoded %#v, want %#v", got, c)
	}
}
