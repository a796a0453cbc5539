package store

import (
	"fmt"
	"strings"
	"time"
)

// MaxSearchValues bounds each list of an EntryFilter: a search is typed
// by a person, and each value costs a predicate.
const MaxSearchValues = 32

// MaxListIDs bounds DeliveryFilter.EntryIDs.
const MaxListIDs = 1000

// CheckDeliveryFilter refuses a filter over the bounds.
func CheckDeliveryFilter(f DeliveryFilter) error {
	if len(f.EntryIDs) > MaxListIDs {
		return fmt.Errorf("list deliveries: %d entry ids, at most %d", len(f.EntryIDs), MaxListIDs)
	}
	return nil
}

// Cond is one SQL condition with a "?" per argument, in order; a backend
// numbers the placeholders its own way.
type Cond struct {
	SQL  string
	Args []any
}

// Dialect is what differs between the backends in an entry search.
type Dialect struct {
	Received string              // the entries column holding ReceivedAt
	Time     func(time.Time) any // encodes a time argument
	Like     string              // case-insensitive LIKE: "LIKE" (SQLite) or "ILIKE"
}

// SearchConds returns the conditions on table entries (named "entries" in
// the query) for f's search fields. Paging (Before) and Kind stay with the
// backend, which already handles them. The time range reads the
// (received, id) index every backend has; delivery predicates probe the
// deliveries (entry_id, subscription) unique index once per entry.
func SearchConds(f EntryFilter, d Dialect) ([]Cond, error) {
	for name, n := range map[string]int{"kinds": len(f.Kinds), "projects": len(f.Projects),
		"environments": len(f.Environments), "members": len(f.Members), "text": len(f.Text),
		"subscriptions": len(f.Subscriptions), "states": len(f.States), "codes": len(f.Codes)} {
		if n > MaxSearchValues {
			return nil, fmt.Errorf("entry search: %d %s, at most %d", n, name, MaxSearchValues)
		}
	}
	var out []Cond
	if !f.Since.IsZero() {
		out = append(out, Cond{"entries." + d.Received + " >= ?", []any{d.Time(f.Since)}})
	}
	if !f.Until.IsZero() {
		out = append(out, Cond{"entries." + d.Received + " < ?", []any{d.Time(f.Until)}})
	}
	anyLike := func(col string, pats []string) {
		if len(pats) == 0 {
			return
		}
		parts := make([]string, len(pats))
		args := make([]any, len(pats))
		for i, p := range pats {
			parts[i] = col + " " + d.Like + ` ? ESCAPE '\'`
			args[i] = LikePattern(p)
		}
		out = append(out, Cond{"(" + strings.Join(parts, " OR ") + ")", args})
	}
	anyLike("entries.kind", f.Kinds)
	anyLike("entries.project", f.Projects)
	anyLike("entries.environment", f.Environments)
	anyLike("entries.member", f.Members)
	for _, t := range f.Text {
		pat := "%" + escapeLike(t) + "%"
		cols := []string{"title", "member", "kind", "project", "environment", "id"}
		parts := make([]string, len(cols))
		args := make([]any, len(cols))
		for i, c := range cols {
			parts[i] = "entries." + c + " " + d.Like + ` ? ESCAPE '\'`
			args[i] = pat
		}
		out = append(out, Cond{"(" + strings.Join(parts, " OR ") + ")", args})
	}
	exists := func(pred string, args []any) {
		out = append(out, Cond{"EXISTS (SELECT 1 FROM deliveries sd WHERE sd.entry_id = entries.id AND " + pred + ")", args})
	}
	if len(f.Subscriptions) > 0 {
		parts := make([]string, len(f.Subscriptions))
		args := make([]any, len(f.Subscriptions))
		for i, p := range f.Subscriptions {
			parts[i] = "sd.subscription " + d.Like + ` ? ESCAPE '\'`
			args[i] = LikePattern(p)
		}
		exists("sd.state <> 'filtered' AND ("+strings.Join(parts, " OR ")+")", args)
	}
	if len(f.States) > 0 {
		args := make([]any, len(f.States))
		for i, s := range f.States {
			args[i] = string(s)
		}
		exists("sd.state IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")+")", args)
	}
	if len(f.Codes) > 0 {
		parts := make([]string, len(f.Codes))
		var args []any
		for i, c := range f.Codes {
			parts[i] = "sd.last_status BETWEEN ? AND ?"
			args = append(args, c.Min, c.Max)
		}
		exists("("+strings.Join(parts, " OR ")+")", args)
	}
	return out, nil
}

// LikePattern turns a search pattern (* = any run) into a LIKE pattern
// with \ as the escape character.
func LikePattern(p string) string {
	return strings.ReplaceAll(escapeLike(p), "*", "%")
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
