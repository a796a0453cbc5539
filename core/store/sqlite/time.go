package sqlite

import (
	"fmt"
	"time"
)

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

// codec is the store.Codec of these columns: scanning into msTime and
// usDuration decodes them as above.
type codec struct{}

func (codec) Time(t *time.Time) any         { return (*msTime)(t) }
func (codec) Duration(d *time.Duration) any { return (*usDuration)(d) }

// msTime scans an INTEGER unix-millisecond column; NULL (an aggregate over
// no rows) is the zero time, like 0.
type msTime time.Time

func (t *msTime) Scan(src any) error {
	ms, err := integer(src)
	*t = msTime(decodeTime(ms))
	return err
}

// usDuration scans an INTEGER microsecond column.
type usDuration time.Duration

func (d *usDuration) Scan(src any) error {
	us, err := integer(src)
	*d = usDuration(decodeDuration(us))
	return err
}

// integer is the value of an INTEGER column, 0 for NULL.
func integer(src any) (int64, error) {
	switch v := src.(type) {
	case int64:
		return v, nil
	case nil:
		return 0, nil
	default:
		return 0, fmt.Errorf("got %T, want an INTEGER", src)
	}
}
