package engine

import (
	"net/url"
	"strings"

	"github.com/auditrelay/auditrelay/core/delivery"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
)

// SetListener records where one of the relay's own listeners is bound
// (port 0 and host names are known only then), so that deliveries to it
// are refused.
func (e *Engine) SetListener(l delivery.Listener) error {
	return e.client.Targets().SetListener(l)
}

// targetError is a subscription URL the delivery target rules refuse,
// found before any delivery (config load, a form save).
type targetError struct {
	key         string // the form variable the URL's host comes from, "" when the manifest fixes it
	integration string
	err         error // *delivery.TargetError
}

func (e *targetError) Error() string {
	if e.key != "" {
		return "vars." + e.key + ": target refused: " + e.err.Error()
	}
	return "endpoint URL of integration " + e.integration + ": target refused: " + e.err.Error()
}

func (e *targetError) Unwrap() error { return e.err }

// checkStaticTarget applies the client's target rules to the URL vars
// give, when it does not depend on the entry and its host is an address
// (or localhost): the same rules the dialer applies, said at once rather
// than on the first delivery. Names are left to the dialer: DNS at load
// time would prove nothing about connect time.
func (e *Engine) checkStaticTarget(hk *hook.Integration, vars hook.Vars) error {
	raw, ok, err := hk.Bind(vars).StaticURL()
	if err != nil || !ok {
		return nil // a URL that does not render fails its deliveries with the reason
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil // likewise: Send reports an invalid URL
	}
	terr := e.client.Targets().CheckURL(u)
	if terr == nil {
		return nil
	}
	keys := hk.URLFormVariables()
	key := ""
	for _, k := range keys {
		if v := vars.Values[k]; v.Kind() == jsonv.String && strings.Contains(v.Text(), u.Hostname()) {
			key = k
			break
		}
	}
	if key == "" && len(keys) > 0 {
		key = keys[0]
	}
	return &targetError{key: key, integration: hk.Source().Name, err: terr}
}
