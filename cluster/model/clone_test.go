package model

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// fill sets every field reachable from v to a non-zero value: one
// element in each slice, a target for each pointer.
func fill(t *testing.T, v reflect.Value, depth int) {
	if depth > 8 {
		t.Fatalf("type nests too deep at %s", v.Type())
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(3)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, s.Index(0), depth+1)
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		e := reflect.New(v.Type().Elem()).Elem()
		fill(t, k, depth+1)
		fill(t, e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 27, 1, 2, 3, 4, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), depth+1)
			}
		}
	default:
		t.Fatalf("fill: no rule for %s", v.Type())
	}
}

// shares reports the path of the first slice, pointer or map that a and
// b both reach.
func shares(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shares(a.Index(i), b.Index(i), path+"[i]"); p != "" {
				return p
			}
		}
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shares(a.Elem(), b.Elem(), path)
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
	case reflect.Struct:
		if a.Type() == reflect.TypeOf(time.Time{}) {
			return ""
		}
		for i := range a.NumField() {
			if p := shares(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	}
	return ""
}

// checkClone fills every field of a new T, clones it, and fails if the
// clone differs or shares a slice or pointer with the original.
func checkClone[T any](t *testing.T, clone func(*T) *T) *T {
	t.Helper()
	v := new(T)
	fill(t, reflect.ValueOf(v).Elem(), 0)
	c := clone(v)
	if !reflect.DeepEqual(v, c) {
		t.Fatalf("clone differs:\n%+v\n%+v", *v, *c)
	}
	if p := shares(reflect.ValueOf(v).Elem(), reflect.ValueOf(c).Elem(), reflect.TypeOf(v).Elem().Name()); p != "" {
		t.Fatalf("clone shares %s with the original", p)
	}
	return v
}

// TestCloneSharesNothing: a clone equals its record and shares no slice
// or pointer with it, for every field the types have now or gain later.
func TestCloneSharesNothing(t *testing.T) {
	checkClone(t, (*User).Clone)
	checkClone(t, (*APIToken).Clone)
	v := checkClone(t, (*Video).Clone)
	c := v.Clone()
	c.Tags[0] = "changed"
	c.Storyboard.Sprites[0] = "changed"
	if v.Tags[0] != "x" || v.Storyboard.Sprites[0] != "x" {
		t.Fatal("editing the clone edited the original")
	}
}

// TestCloneKeepsNilAndEmpty: the stored JSON tells a nil list (null or
// absent) from an empty one ([]), so a clone must keep which it was.
func TestCloneKeepsNilAndEmpty(t *testing.T) {
	for _, v := range []*Video{
		{ID: "a", Tags: []string{}, Renditions: []Rendition{}},
		{ID: "b"},
		{ID: "c", Storyboard: &Storyboard{}},
	} {
		want, _ := json.Marshal(v)
		got, _ := json.Marshal(v.Clone())
		if string(got) != string(want) {
			t.Errorf("clone encodes as\n%s\nwant\n%s", got, want)
		}
	}
	if (*Video)(nil).Clone() != nil {
		t.Error("a nil video's clone is not nil")
	}
}
