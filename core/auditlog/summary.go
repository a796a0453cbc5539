package auditlog

import (
	"strings"
)

// Summary is what lists show of an entry, read without building the
// template context (which renders Markdown and is several times dearer than
// deciding an entry's deliveries).
type Summary struct {
	Title       string // plain text, like the context's title.plainText
	Member      string // the actor's email, or the token/app name
	Project     string // project key of the primary access, "" when none
	Environment string // environment key, "~" for all environments, "" when none
}

// Summary field lengths: enough for any list, bounded whatever the entry
// holds.
const (
	maxSummaryTitle = 1024
	maxSummaryField = 256
)

// Summary reads e's summary. Entries without a title (list items of older
// API versions) get the one the context would synthesise, at the price of
// building the context. Its fields are display text: valid UTF-8 without
// control characters, of bounded length, whatever the entry holds.
func (b *Builder) Summary(e *Entry) Summary {
	s := b.summary(e)
	s.Title = displayText(s.Title, maxSummaryTitle)
	s.Member = displayText(s.Member, maxSummaryField)
	s.Project = displayText(s.Project, maxSummaryField)
	s.Environment = displayText(s.Environment, maxSummaryField)
	return s
}

func (b *Builder) summary(e *Entry) Summary {
	if e.Title == "" {
		ctx := b.Build(e)
		return Summary{
			Title:       ctx.Path("title", "plainText").Text(),
			Member:      ctx.Path("member", "email").Text(),
			Project:     ctx.Path("project", "key").Text(),
			Environment: ctx.Path("project", "environment", "key").Text(),
		}
	}
	s := Summary{Title: PlainInline(e.Title)}
	if e.Member != nil {
		s.Member = e.Member.Email
	}
	if a, ok := e.PrimaryAccess(); ok {
		segs := parseSpecifier(a.Resource)
		if p, ok := findSegment(segs, "proj"); ok {
			s.Project = p.name
		}
		env, hasEnv := findSegment(segs, "env")
		_, isFlag := findSegment(segs, "flag")
		switch {
		case hasEnv && (env.name == "*" || env.name == "~"):
			s.Environment = "~"
		case hasEnv:
			s.Environment = env.name
		case s.Project != "" && isFlag:
			s.Environment = "~" // a flag change without an environment applies to all of them
		}
	}
	return s
}

// PlainInline turns one line of LaunchDarkly title Markdown into text:
// links become their text, code spans are quoted with ' as the framework's
// plain-text titles are, and emphasis markers and backslash escapes go.
func PlainInline(md string) string {
	if !strings.ContainsAny(md, "[`*_\\") {
		return md
	}
	var b strings.Builder
	b.Grow(len(md))
	for i := 0; i < len(md); i++ {
		c := md[i]
		switch c {
		case '\\':
			if i+1 < len(md) {
				i++
				b.WriteByte(md[i])
			}
		case '[':
			end := strings.IndexByte(md[i:], ']')
			if end > 0 && i+end+1 < len(md) && md[i+end+1] == '(' {
				if close := strings.IndexByte(md[i+end+1:], ')'); close > 0 {
					b.WriteString(PlainInline(md[i+1 : i+end]))
					i += end + 1 + close
					continue
				}
			}
			b.WriteByte(c)
		case '`':
			end := strings.IndexByte(md[i+1:], '`')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			b.WriteByte('\'')
			b.WriteString(md[i+1 : i+1+end])
			b.WriteByte('\'')
			i += end + 1
		case '*', '_':
			// Emphasis markers; a lone underscore inside a word stays.
			if c == '_' && i > 0 && i+1 < len(md) && isWordByte(md[i-1]) && isWordByte(md[i+1]) {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
