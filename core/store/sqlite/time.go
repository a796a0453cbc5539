package sqlite

import "time"

// encodeTime and decodeTime are the only place times cross into SQL: INTEGER
// unix milliseconds, 0 for the zero time. Integers compare correctly in SQL,
// which text timestamps in mixed formats do not.
func encodeTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func decodeTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// encodeDuration and decodeDuration keep durations as INTEGER microseconds.
func encodeDuration(d time.Duration) int64 { return d.Microseconds() }

func decodeDuration(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
