package corpus

import (
	"reflect"
	"testing"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(7, 300), Generate(7, 300)
	for i := range a {
		if !reflect.DeepEqual(a[i].Video, b[i].Video) || a[i].Truth != b[i].Truth {
			t.Fatalf("video %d differs between two runs with the same seed", i)
		}
	}
	if reflect.DeepEqual(a[0].Video, Generate(8, 1)[0].Video) {
		t.Fatal("another seed gave the same first video")
	}
	for _, v := range a[:30] {
		t.Logf("%s %-10s %-12s %-11s %-16s %q | %q %v", v.ID, v.Truth.Topic, v.Truth.Subject, v.Truth.Format, v.Owner, v.Title, v.Description, v.Tags)
	}
}
