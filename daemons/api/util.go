package api

import (
	"context"
	"time"
)

type contextT = context.Context

// isoTime formats like JavaScript's toISOString: UTC, milliseconds, "Z".
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 26)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, '"')
	return b, nil
}

// ts converts a time for JSON output.
func ts(t time.Time) isoTime { return isoTime(t) }

// tsp converts a nullable time (nil → null).
func tsp(t *time.Time) *isoTime {
	if t == nil {
		return nil
	}
	v := isoTime(*t)
	return &v
}
