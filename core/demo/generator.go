package demo

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Generator.
type Options struct {
	// Rand drives every choice; when nil, one is seeded with Seed. The
	// same seed and clock give the same entries.
	Rand *rand.Rand
	Seed uint64
	// Now is the clock for entry dates and ids, default time.Now.
	Now func() time.Time
	// BaseURL is the LaunchDarkly app URL used in markdown links, default
	// https://app.launchdarkly.com. _links hrefs are relative, as the API
	// sends them.
	BaseURL string
	// AccountID is _accountId, default a fixed demo id.
	AccountID string
}

// Event is one generated audit-log entry.
type Event struct {
	ID     string
	Kind   string // flag, project, environment, member, segment, metric
	Action string // the access action: updateOn, createFlag, ...
	Date   int64  // ms since the epoch
	Raw    []byte // the entry as the REST API and webhooks deliver it
}

// Generator makes realistic LaunchDarkly audit-log entries for the demo.
// It is safe for concurrent use.
type Generator struct {
	now     func() time.Time
	base    string
	account string

	mu      sync.Mutex
	rng     *rand.Rand
	world   *world
	counter uint32
	process [5]byte // the ObjectId's per-process random value

	rate    atomic.Uint64 // math.Float64bits of entries per second
	wake    chan struct{}
	running atomic.Bool
}

// NewGenerator returns a generator over a fresh demo account.
func NewGenerator(o Options) *Generator {
	rng := o.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	base := strings.TrimRight(o.BaseURL, "/")
	if base == "" {
		base = "https://app.launchdarkly.com"
	}
	account := o.AccountID
	if account == "" {
		account = "5d1e7c3f9a2b4c0012ab34cd"
	}
	g := &Generator{now: now, base: base, account: account, rng: rng, world: newWorld(), wake: make(chan struct{}, 1)}
	r := rng.Uint64()
	for i := range g.process {
		g.process[i] = byte(r >> (8 * i))
	}
	return g
}

// kindAction is one kind of change with its weight in the mix.
type kindAction struct {
	kind, action string
	weight       int
}

// mix is how often each change happens: mostly flag work, a little
// administration.
var mix = []kindAction{
	{"flag", "updateOn", 22},
	{"flag", "updateRules", 10},
	{"flag", "updateTargets", 9},
	{"flag", "updateFallthrough", 6},
	{"flag", "createFlag", 6},
	{"flag", "updateGlobalArchived", 3},
	{"project", "createProject", 2},
	{"environment", "createEnvironment", 3},
	{"member", "updateRole", 4},
	{"segment", "createSegment", 3},
	{"segment", "updateIncluded", 4},
	{"segment", "updateRules", 2},
	{"metric", "createMetric", 3},
}

// Next makes one entry dated now.
func (g *Generator) Next() Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	n := g.rng.IntN(total)
	var pick kindAction
	for _, m := range mix {
		if n < m.weight {
			pick = m
			break
		}
		n -= m.weight
	}
	now := g.now()
	e := &entry{
		ID:        g.objectID(now),
		AccountID: g.account,
		Date:      now.UnixMilli(),
	}
	g.fill(e, pick.kind, pick.action)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // LaunchDarkly writes <, > and & as they are
	if err := enc.Encode(e); err != nil {
		panic(fmt.Sprintf("demo: encoding an entry: %v", err)) // plain structs of strings always encode
	}
	raw := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return Event{ID: e.ID, Kind: e.Kind, Action: e.Accesses[0].Action, Date: e.Date, Raw: raw}
}

// objectID makes a MongoDB-style id like LaunchDarkly's: 4 bytes of
// seconds, 5 random bytes fixed for the process, a 3-byte counter. So, as
// with LaunchDarkly's, ids grow with time.
func (g *Generator) objectID(now time.Time) string {
	var b [12]byte
	secs := uint32(now.Unix())
	b[0], b[1], b[2], b[3] = byte(secs>>24), byte(secs>>16), byte(secs>>8), byte(secs)
	copy(b[4:9], g.process[:])
	g.counter++
	b[9], b[10], b[11] = byte(g.counter>>16), byte(g.counter>>8), byte(g.counter)
	return hex.EncodeToString(b[:])
}

// The REST representation, fields in LaunchDarkly's order.
type (
	link struct {
		Href string `json:"href"`
		Type string `json:"type"`
	}
	links struct {
		Canonical *link `json:"canonical,omitempty"`
		Parent    *link `json:"parent,omitempty"`
		Self      *link `json:"self,omitempty"`
		Site      *link `json:"site,omitempty"`
	}
	access struct {
		Action   string `json:"action"`
		Resource string `json:"resource"`
	}
	subject struct {
		Links     links  `json:"_links"`
		Name      string `json:"name"`
		AvatarURL string `json:"avatarUrl"`
	}
	memberRep struct {
		Links     links  `json:"_links"`
		ID        string `json:"_id"`
		Email     string `json:"email"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	}
	target struct {
		Links     links    `json:"_links"`
		Name      string   `json:"name"`
		Resources []string `json:"resources"`
	}
	parent struct {
		Links    links  `json:"_links"`
		Name     string `json:"name"`
		Resource string `json:"resource"`
	}
	entry struct {
		Links            links     `json:"_links"`
		ID               string    `json:"_id"`
		AccountID        string    `json:"_accountId"`
		Date             int64     `json:"date"`
		Accesses         []access  `json:"accesses"`
		Kind             string    `json:"kind"`
		Name             string    `json:"name"`
		Description      string    `json:"description"`
		ShortDescription string    `json:"shortDescription"`
		Comment          string    `json:"comment,omitempty"`
		Subject          subject   `json:"subject"`
		Member           memberRep `json:"member"`
		TitleVerb        string    `json:"titleVerb"`
		Title            string    `json:"title"`
		Target           target    `json:"target"`
		Parent           *parent   `json:"parent,omitempty"`
	}
)

func jsonLink(href string) *link { return &link{Href: href, Type: "application/json"} }
func htmlLink(href string) *link { return &link{Href: href, Type: "text/html"} }

// seg writes one specifier segment: type/name;tag1,tag2.
func seg(typ, name string, tags []string) string {
	if len(tags) == 0 {
		return typ + "/" + name
	}
	return typ + "/" + name + ";" + strings.Join(tags, ",")
}

func (g *Generator) pickMember() *member { return g.world.members[g.rng.IntN(len(g.world.members))] }

func (g *Generator) pickProject() *project {
	return g.world.projects[g.rng.IntN(len(g.world.projects))]
}

func pickOf[T any](g *Generator, s []T) T { return s[g.rng.IntN(len(s))] }

func (g *Generator) comment(p float64) string {
	if g.rng.Float64() < p {
		return pickOf(g, comments)
	}
	return ""
}

// fill makes e a change of kind/action by a random member, updating the
// demo account. Changes that cannot happen (nothing left to create) fall
// back to another of the same kind or to a flag change.
func (g *Generator) fill(e *entry, kind, action string) {
	m := g.pickMember()
	e.Links.Parent = jsonLink("/api/v2/auditlog")
	e.Links.Self = jsonLink("/api/v2/auditlog/" + e.ID)
	e.Member = memberRep{
		Links: links{Parent: jsonLink("/api/v2/members"), Self: jsonLink("/api/v2/members/" + m.id)},
		ID:    m.id, Email: m.email, FirstName: m.first, LastName: m.last,
	}
	sum := md5.Sum([]byte(m.email)) // Gravatar's scheme, not for security
	e.Subject = subject{
		Links:     links{Self: jsonLink("/api/v2/members/" + m.id)},
		Name:      m.name(),
		AvatarURL: "https://www.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?d=identicon",
	}
	actor := fmt.Sprintf("[%s](mailto:%s)", m.name(), m.email)

	switch kind {
	case "project":
		if g.createProject(e, actor) {
			return
		}
		kind, action = "environment", "createEnvironment"
	case "member":
		g.updateRole(e, actor, m)
		return
	case "metric":
		g.createMetric(e, actor)
		return
	case "segment":
		g.segmentChange(e, actor, action)
		return
	}
	if kind == "environment" {
		if g.createEnvironment(e, actor) {
			return
		}
		action = "updateRules"
	}
	g.flagChange(e, actor, action)
}

func (g *Generator) projectParent(p *project) *parent {
	return &parent{
		Links:    links{Canonical: jsonLink("/api/v2/projects/" + p.key), Site: htmlLink("/" + p.key + "/production/features")},
		Name:     p.name,
		Resource: seg("proj", p.key, p.tags),
	}
}

func (g *Generator) flagChange(e *entry, actor, action string) {
	p := g.pickProject()
	if len(p.flags) == 0 {
		action = "createFlag"
	}
	switch action {
	case "createFlag":
		if len(p.flags) >= 14 {
			action = "updateGlobalArchived"
		}
	case "updateGlobalArchived":
		if len(p.flags) <= 3 {
			action = "updateOn"
		}
	}
	env := pickOf(g, p.envs)
	var f *flag
	allEnvs := false
	switch action {
	case "createFlag":
		f = g.newFlag(p)
		allEnvs = true
	case "updateGlobalArchived":
		i := g.rng.IntN(len(p.flags))
		f = p.flags[i]
		p.flags = slices.Delete(p.flags, i, i+1)
		p.archived = append(p.archived, f)
		allEnvs = true
	default:
		f = pickOf(g, p.flags)
	}

	envSeg := seg("env", env.key, env.tags)
	siteEnv := env
	if allEnvs {
		envSeg = "env/*"
		siteEnv = p.envs[0]
	}
	resource := seg("proj", p.key, p.tags) + ":" + envSeg + ":" + seg("flag", f.key, f.tags)
	site := "/" + p.key + "/" + siteEnv.key + "/features/" + f.key
	e.Kind, e.Name = "flag", f.name
	e.Accesses = []access{{Action: action, Resource: resource}}
	e.Links.Canonical = jsonLink("/api/v2/flags/" + p.key + "/" + f.key)
	e.Links.Site = htmlLink(site)
	e.Target = target{Links: links{Canonical: e.Links.Canonical, Site: e.Links.Site}, Name: f.name, Resources: []string{resource}}
	e.Parent = g.projectParent(p)
	flagLink := fmt.Sprintf("[%s](%s%s)", f.name, g.base, site)
	in := fmt.Sprintf(" in `%s`", env.name)

	switch action {
	case "updateOn":
		f.on[env.key] = !f.on[env.key]
		state := "off"
		if f.on[env.key] {
			state = "on"
		}
		e.TitleVerb = "turned " + state + " the flag"
		e.Comment = g.comment(0.3)
	case "updateRules":
		e.TitleVerb = "updated the flag"
		a := pickOf(g, attributes)
		old := f.rollout[env.key]
		next := []int{5, 10, 25, 50, 75, 100}[g.rng.IntN(6)]
		if next == old {
			next = 100 - old
		}
		f.rollout[env.key] = next
		e.Description = fmt.Sprintf("* Changed the rollout from ~~`%d%%`~~ to `%d%%` for the rule\n    > **If** `%s` **%s** %s  \n    **serve** `%d%%` `true`\n",
			old, next, a.attr, a.op, a.values, next)
		e.ShortDescription = fmt.Sprintf("Changed the rollout to %d%% for the %s rule", next, a.attr)
		e.Comment = g.comment(0.6)
	case "updateTargets":
		e.TitleVerb = "updated the flag"
		key := pickOf(g, contextKeys)
		if g.rng.IntN(3) == 0 {
			e.Description = fmt.Sprintf("* Removed ~~`%s`~~ from the individual targets for the variation `true`\n", key)
		} else {
			e.Description = fmt.Sprintf("* Added `%s` to the individual targets for the variation `true`\n", key)
		}
		e.Comment = g.comment(0.5)
	case "updateFallthrough":
		e.TitleVerb = "updated the flag"
		if g.rng.IntN(2) == 0 {
			e.Description = "* Changed the default rule from ~~`false`~~ to `true`\n"
		} else {
			pct := []int{10, 20, 33, 50}[g.rng.IntN(4)]
			e.Description = fmt.Sprintf("* Changed the default rule to a percentage rollout: `true` `%d%%`, `false` `%d%%`\n", pct, 100-pct)
		}
		e.Comment = g.comment(0.5)
	case "createFlag":
		e.TitleVerb = "created the flag"
		e.Description = "* Created the flag with the variations `true` and `false`\n"
		in = fmt.Sprintf(" in `%s`", p.name)
		e.Comment = g.comment(0.2)
	case "updateGlobalArchived":
		e.TitleVerb = "archived the flag"
		e.Description = "* Archived the flag\n"
		in = fmt.Sprintf(" in `%s`", p.name)
		e.Comment = g.comment(0.7)
	}
	e.Title = actor + " " + e.TitleVerb + " " + flagLink + in
}

func (g *Generator) newFlag(p *project) *flag {
	c := pickOf(g, newFlagPool)
	key := c.key
	for i := 2; slices.ContainsFunc(append(slices.Clone(p.flags), p.archived...), func(f *flag) bool { return f.key == key }); i++ {
		key = fmt.Sprintf("%s-%d", c.key, i)
	}
	f := newFlag(key, c.name, c.tag)
	p.flags = append(p.flags, f)
	return f
}

func (g *Generator) createProject(e *entry, actor string) bool {
	var c *struct{ key, name, tag string }
	for i := range newProjectPool {
		if !slices.ContainsFunc(g.world.projects, func(p *project) bool { return p.key == newProjectPool[i].key }) {
			c = &newProjectPool[i]
			break
		}
	}
	if c == nil {
		return false
	}
	p := &project{
		key: c.key, name: c.name, tags: []string{c.tag},
		envs: []*environment{{"production", "Production", []string{"critical"}}, {"test", "Test", []string{"qa"}}},
	}
	g.world.projects = append(g.world.projects, p)
	resource := seg("proj", p.key, p.tags)
	site := "/settings/projects/" + p.key
	e.Kind, e.Name = "project", p.name
	e.Accesses = []access{{Action: "createProject", Resource: resource}}
	e.Links.Canonical = jsonLink("/api/v2/projects/" + p.key)
	e.Links.Site = htmlLink(site)
	e.Target = target{Links: links{Canonical: e.Links.Canonical, Site: e.Links.Site}, Name: p.name, Resources: []string{resource}}
	e.TitleVerb = "created the project"
	e.Title = fmt.Sprintf("%s created the project [%s](%s%s)", actor, p.name, g.base, site)
	e.Description = "* Created the environments `Production` and `Test`\n"
	return true
}

func (g *Generator) createEnvironment(e *entry, actor string) bool {
	p := g.pickProject()
	var c *environment
	for i := range newEnvPool {
		if !slices.ContainsFunc(p.envs, func(x *environment) bool { return x.key == newEnvPool[i].key }) {
			c = &newEnvPool[i]
			break
		}
	}
	if c == nil {
		return false
	}
	env := &environment{key: c.key, name: c.name, tags: c.tags}
	p.envs = append(p.envs, env)
	resource := seg("proj", p.key, p.tags) + ":" + seg("env", env.key, env.tags)
	site := "/settings/projects/" + p.key + "/environments"
	e.Kind, e.Name = "environment", env.name
	e.Accesses = []access{{Action: "createEnvironment", Resource: resource}}
	e.Links.Canonical = jsonLink("/api/v2/projects/" + p.key + "/environments/" + env.key)
	e.Links.Site = htmlLink(site)
	e.Target = target{Links: links{Canonical: e.Links.Canonical, Site: e.Links.Site}, Name: env.name, Resources: []string{resource}}
	e.Parent = g.projectParent(p)
	e.TitleVerb = "created the environment"
	e.Title = fmt.Sprintf("%s created the environment [%s](%s%s) in `%s`", actor, env.name, g.base, site, p.name)
	e.Comment = g.comment(0.3)
	return true
}

func (g *Generator) updateRole(e *entry, actor string, by *member) {
	var who *member
	for who == nil || who == by {
		who = g.pickMember()
	}
	roles := []string{"reader", "writer", "admin"}
	from := who.role
	to := from
	for to == from {
		to = pickOf(g, roles)
	}
	who.role = to
	resource := "member/" + who.id
	site := "/settings/members/" + who.id + "/permissions"
	e.Kind, e.Name = "member", who.email
	e.Accesses = []access{{Action: "updateRole", Resource: resource}}
	e.Links.Canonical = jsonLink("/api/v2/members/" + who.id)
	e.Links.Site = htmlLink(site)
	e.Target = target{Links: links{Canonical: e.Links.Canonical, Site: e.Links.Site}, Name: who.email, Resources: []string{resource}}
	e.TitleVerb = "updated the member"
	e.Title = fmt.Sprintf("%s updated the member [%s](%s%s)", actor, who.email, g.base, site)
	e.Description = fmt.Sprintf("* Changed the role from ~~`%s`~~ to `%s`\n", from, to)
	e.Comment = g.comment(0.4)
}

func (g *Generator) segmentChange(e *entry, actor, action string) {
	p := g.pickProject()
	env := p.envs[0] // segments live in an environment; most work happens in production
	if g.rng.IntN(3) == 0 {
		env = pickOf(g, p.envs)
	}
	var s *segment
	if action == "createSegment" || len(p.segments) == 0 {
		for i := range newSegmentPool {
			if !slices.ContainsFunc(p.segments, func(x *segment) bool { return x.key == newSegmentPool[i].key }) {
				c := newSegmentPool[i]
				s = &c
				break
			}
		}
		if s != nil {
			action = "createSegment"
			p.segments = append(p.segments, s)
		} else {
			action = "updateIncluded"
		}
	}
	if s == nil {
		s = pickOf(g, p.segments)
	}
	resource := seg("proj", p.key, p.tags) + ":" + seg("env", env.key, env.tags) + ":segment/" + s.key
	site := "/" + p.key + "/" + env.key + "/segments/" + s.key
	e.Kind, e.Name = "segment", s.name
	e.Accesses = []access{{Action: action, Resource: resource}}
	e.Links.Canonical = jsonLink("/api/v2/segments/" + p.key + "/" + env.key + "/" + s.key)
	e.Links.Site = htmlLink(site)
	e.Target = target{Links: links{Canonical: e.Links.Canonical, Site: e.Links.Site}, Name: s.name, Resources: []string{resource}}
	e.Parent = g.projectParent(p)
	segLink := fmt.Sprintf("[%s](%s%s)", s.name, g.base, site)
	switch action {
	case "createSegment":
		e.TitleVerb = "created the segment"
		e.Comment = g.comment(0.2)
	case "updateIncluded":
		e.TitleVerb = "updated the segment"
		e.Description = fmt.Sprintf("* Added the included context `%s`\n", pickOf(g, contextKeys))
		e.Comment = g.comment(0.4)
	default:
		e.TitleVerb = "updated the segment"
		a := pickOf(g, attributes)
		e.Description = fmt.Sprintf("* Changed the targeting rules\n    > **If** `%s` **%s** %s\n", a.attr, a.op, a.values)
		e.Comment = g.comment(0.4)
	}
	e.Title = fmt.Sprintf("%s %s %s in `%s`", actor, e.TitleVerb, segLink, env.name)
}

func (g *Generator) createMetric(e *entry, actor string) {
	p := g.pickProject()
	c := pickOf(g, newMetricPool)
	key := c.key
	for i := 2; slices.ContainsFunc(p.metrics, func(x *metric) bool { return x.key == key }); i++ {
		key = fmt.Sprintf("%s-%d", c.key, i)
	}
	mt := &metric{key: key, name: c.name, kind: c.kind}
	p.metrics = append(p.metrics, mt)
	resource := seg("proj", p.key, p.tags) + ":metric/" + mt.key
	site := "/" + p.key + "/metrics/" + mt.key
	e.Kind, e.Name = "metric", mt.name
	e.Accesses = []access{{Action: "createMetric", Resource: resource}}
	e.Links.Canonical = jsonLink("/api/v2/metrics/" + p.key + "/" + mt.key)
	e.Links.Site = htmlLink(site)
	e.Target = target{Links: links{Canonical: e.Links.Canonical, Site: e.Links.Site}, Name: mt.name, Resources: []string{resource}}
	e.Parent = g.projectParent(p)
	e.TitleVerb = "created the metric"
	e.Title = fmt.Sprintf("%s created the metric [%s](%s%s) in `%s`", actor, mt.name, g.base, site, p.name)
	e.Description = fmt.Sprintf("* Created a %s metric\n", mt.kind)
	e.Comment = g.comment(0.2)
}

// SetRate changes how many entries per second Run emits; 0 pauses it.
// It takes effect at once, also while Run is waiting.
func (g *Generator) SetRate(perSecond float64) {
	if math.IsNaN(perSecond) || perSecond < 0 {
		perSecond = 0
	}
	g.rate.Store(math.Float64bits(perSecond))
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// Rate is the current rate in entries per second.
func (g *Generator) Rate() float64 { return math.Float64frombits(g.rate.Load()) }

// tick is the shortest pause between emissions; faster rates emit several
// entries per tick.
const tick = 10 * time.Millisecond

// Run emits entries to fn at rate per second (changeable with SetRate)
// until ctx ends (it then returns nil) or fn fails (it returns fn's
// error). Only one Run may be active at a time.
func (g *Generator) Run(ctx context.Context, rate float64, fn func(Event) error) error {
	if !g.running.CompareAndSwap(false, true) {
		return errors.New("demo: generator already running")
	}
	defer g.running.Store(false)
	g.SetRate(rate)
	credit := 0.0
	last := time.Now()
	for {
		r := g.Rate()
		if r <= 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-g.wake:
			}
			credit, last = 0, time.Now()
			continue
		}
		wait := max(time.Duration((1-credit)/r*float64(time.Second)), tick)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-g.wake:
			t.Stop()
		case <-t.C:
		}
		now := time.Now()
		// At most a second's worth at once, so a slow fn does not cause
		// a burst afterwards.
		credit = min(credit+now.Sub(last).Seconds()*g.Rate(), max(g.Rate(), 1))
		last = now
		for ; credit >= 1; credit-- {
			if g.Rate() <= 0 || ctx.Err() != nil {
				break
			}
			if err := fn(g.Next()); err != nil {
				return err
			}
		}
	}
}
