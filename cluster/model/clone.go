package model

import "slices"

// Clone returns a deep copy of v. The store keeps decoded records in a
// cache and hands out clones, so a caller that edits the record it got
// (the FSM's read-modify-write, an API view) never edits the cached one.
// TestCloneSharesNothing walks every field, so a new slice or pointer
// field that Clone forgets fails it.
func (v *Video) Clone() *Video {
	if v == nil {
		return nil
	}
	c := *v
	c.Tags = slices.Clone(v.Tags)
	c.Renditions = slices.Clone(v.Renditions)
	c.Thumbnails = slices.Clone(v.Thumbnails)
	if v.Storyboard != nil {
		sb := *v.Storyboard
		sb.Sprites = slices.Clone(sb.Sprites)
		c.Storyboard = &sb
	}
	c.Pending = slices.Clone(v.Pending)
	c.Files = slices.Clone(v.Files)
	c.RawHolders = slices.Clone(v.RawHolders)
	c.MediaHolders = slices.Clone(v.MediaHolders)
	c.Captions = slices.Clone(v.Captions)
	c.RecentViews = slices.Clone(v.RecentViews)
	return &c
}

// Clone returns a deep copy of u (see Video.Clone).
func (u *User) Clone() *User {
	if u == nil {
		return nil
	}
	c := *u
	return &c
}

// Clone returns a deep copy of k (see Video.Clone).
func (k *APIToken) Clone() *APIToken {
	if k == nil {
		return nil
	}
	c := *k
	c.Scopes = slices.Clone(k.Scopes)
	return &c
}
