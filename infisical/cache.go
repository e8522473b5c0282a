package infisical

import (
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
)

// genCache is a bounded cache whose entries can be invalidated by a group
// key (a project id) in O(1): each group has a generation counter, entries
// remember the generation they were loaded under, and a bump makes every
// older entry of the group a miss. A loader that started before a bump cannot
// store a stale value, because it stores under the generation it read first.
type genCache[V any] struct {
	mu     sync.Mutex
	groups map[string]uint64
	global uint64
	lru    *lru.Cache[string, genEntry[V]]
}

type genEntry[V any] struct {
	group  string
	gen    uint64
	global uint64
	val    V
}

func newGenCache[V any](size int) *genCache[V] {
	c, _ := lru.New[string, genEntry[V]](size)
	return &genCache[V]{groups: map[string]uint64{}, lru: c}
}

// stamp returns the current generations of group, to pass to put.
func (c *genCache[V]) stamp(group string) (uint64, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups[group], c.global
}

func (c *genCache[V]) get(key, group string) (V, bool) {
	ent, ok := c.lru.Get(key)
	if !ok {
		var zero V
		return zero, false
	}
	c.mu.Lock()
	fresh := ent.gen == c.groups[group] && ent.global == c.global
	c.mu.Unlock()
	if !fresh {
		var zero V
		return zero, false
	}
	return ent.val, true
}

func (c *genCache[V]) put(key, group string, gen, global uint64, v V) {
	c.mu.Lock()
	stale := gen != c.groups[group] || global != c.global
	c.mu.Unlock()
	if stale {
		return
	}
	c.lru.Add(key, genEntry[V]{group: group, gen: gen, global: global, val: v})
}

// bump invalidates a group ("" = everything).
func (c *genCache[V]) bump(group string) {
	c.mu.Lock()
	if group == "" {
		c.global++
	} else {
		c.groups[group]++
	}
	c.mu.Unlock()
}
