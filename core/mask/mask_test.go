package mask

import (
	"strings"
	"testing"
	"unicode/utf8"
)

const M = Masked

func TestValue(t *testing.T) {
	for in, want := range map[string]string{"": "", "q": M, "0123456789abcdefXYZ": M, "ключ-секрет-дл": M} {
		if got := Value(in); got != want {
			t.Errorf("Value(%q) = %q, want %q", in, got, want)
		}
	}
}

// A short secret must not corrupt unrelated text: it is masked inside text
// only as a word of its own; long secrets are masked wherever they occur.
func TestTextShortSecretLeavesWordsAlone(t *testing.T) {
	m := New("q", "hunter2")
	for _, tc := range []struct{ in, want string }{
		{"invalid request", "invalid request"},
		{"q", M},
		{"a q b", "a " + M + " b"},
		{`{"key":"q"}`, `{"key":"` + M + `"}`},
		{"quiet queue", "quiet queue"},
		{"password hunter2 rejected", "password " + M + " rejected"},
		{"hunter22 is not the secret", "hunter22 is not the secret"},
		{"/hooks/hunter2/x", "/hooks/" + M + "/x"},
	} {
		if got := m.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTextLongSecretEverywhere(t *testing.T) {
	const secret = "s3cr3t/value=x&y" // ≥ MinInText: masked inside words too
	m := New(secret)
	for _, tc := range []struct{ in, want string }{
		{"prefix" + secret + "suffix", "prefix" + M + "suffix"},
		{"q=s3cr3t%2Fvalue%3Dx%26y", "q=" + M}, // query-escaped
		{"p/s3cr3t%2Fvalue=x&y", "p/" + M},     // path-escaped
		{"s3cr3t/value=x&amp;y", M},            // HTML-escaped
		{"no secret here", "no secret here"},
	} {
		if got := m.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTextJSONEscaped(t *testing.T) {
	m := New(`pa"ss\word`)
	if got := m.Text(`{"password":"pa\"ss\\word"}`); got != `{"password":"`+M+`"}` {
		t.Errorf("got %q", got)
	}
}

func TestTextFindsEncodedSecrets(t *testing.T) {
	secret := `p@ss w"rd/0123`
	in := strings.Join([]string{
		"raw " + secret,
		`json p@ss w\"rd/0123`,
		"query p%40ss%20w%22rd%2F0123",
		"form p%40ss+w%22rd%2F0123",
		"html p@ss w&quot;rd/0123",
	}, "\n")
	got := New(secret, "").Text(in)
	if strings.Contains(got, "p@ss") || strings.Contains(got, "p%40ss") {
		t.Errorf("secret left in:\n%s", got)
	}
	if strings.Count(got, M) != 5 {
		t.Errorf("want 5 masked occurrences:\n%s", got)
	}
}

func TestTextLongestFirst(t *testing.T) {
	got := New("abc", "abc123456").Text("token=abc123456 short=abc")
	if got != "token="+M+" short="+M {
		t.Errorf("got %q", got)
	}
}

func TestNilMasker(t *testing.T) {
	var m *Masker
	if got := m.Text("anything q"); got != "anything q" {
		t.Errorf("Text = %q", got)
	}
	if got := m.Header("Authorization", "Bearer abc", false); got != "Bearer "+M {
		t.Errorf("Header = %q", got)
	}
	if got := m.URL("https://u:p@h.example.com/x?token=1", false); got != "https://u:"+M+"@h.example.com/x?token="+M {
		t.Errorf("URL = %q", got)
	}
}

func TestHeader(t *testing.T) {
	m := New("k-inline-123456", "tiny")
	for _, tc := range []struct {
		name, value string
		derived     bool
		want        string
	}{
		{"Authorization", "Bearer abc.def", false, "Bearer " + M},
		{"authorization", "Basic dXNlcjpwYXNz", false, "Basic " + M},
		{"Authorization", "Splunk 1234-5678", false, "Splunk " + M},
		{"Authorization", "rawtoken", false, M},
		{"Proxy-Authorization", "Basic x", false, "Basic " + M},
		{"X-Api-Key", "k-123", false, M},
		{"DD-API-KEY", "abc", false, M},
		{"Api-Key", "abc", false, M},
		{"X-Functions-Key", "abc", false, M},
		{"X-LD-Signature", "sha256=abc", false, M},
		{"X-Hub-Signature-256", "sha256=abc", false, M},
		{"Cookie", "session=1", false, M},
		{"Set-Cookie", "session=1; Path=/", false, M},
		{"X-Auth-Token", "whatever", false, M},
		{"X-Client-Secret", "whatever", false, M},
		{"Idempotency-Key", "8f1c", false, "8f1c"},
		{"Content-Type", "application/json", false, "application/json"},
		{"X-Custom", "key=k-inline-123456;v=1", true, "key=" + M + ";v=1"},
		{"X-Custom", "tiny", false, M},
		{"X-Custom", "tinyfoo", false, "tinyfoo"},
		{"X-Custom", "base64-of-the-secret", true, M}, // derived, transformed: masked whole
		{"Location", "https://h.example.com/cb?token=abc&x=1", false, "https://h.example.com/cb?token=" + M + "&x=1"},
		{"X-Empty", "", true, ""},
	} {
		if got := m.Header(tc.name, tc.value, tc.derived); got != tc.want {
			t.Errorf("Header(%s: %q, %v) = %q, want %q", tc.name, tc.value, tc.derived, got, tc.want)
		}
	}
}

func TestURL(t *testing.T) {
	for _, tc := range []struct {
		in      string
		secrets []string
		derived bool
		want    string
	}{
		{"https://hooks.example.com/x", nil, false, "https://hooks.example.com/x"},
		{"https://user:hunter2@hooks.example.com/x", nil, false, "https://user:" + M + "@hooks.example.com/x"},
		{"https://tok@hooks.example.com/x", nil, false, "https://" + M + "@hooks.example.com/x"},
		{"https://hooks.example.com/services/T0/B0/abcDEF123", []string{"abcDEF123"}, true, "https://hooks.example.com/services/T0/B0/" + M},
		{"https://h.example.com/in?api_key=a%2Fb%3Dc&x=1", nil, false, "https://h.example.com/in?api_key=" + M + "&x=1"},
		{"https://h.example.com/in?q=a%2Fb%3Dc&x=1", []string{"a/b=c"}, true, "https://h.example.com/in?q=" + M + "&x=1"},
		{"https://h.example.com/in?q=ab&x=1", []string{"ab"}, true, "https://h.example.com/in?q=" + M + "&x=1"}, // short, whole value
		{"https://h.example.com/p/a%20b", []string{"a b"}, true, "https://h.example.com/p/" + M},
		{"https://h.example.com/?k=abcd&k2=abcdef", []string{"abcd", "abcdef"}, true, "https://h.example.com/?k=" + M + "&k2=" + M},
		{"https://h.example.com/?z=1&a=2&code=xyz", nil, false, "https://h.example.com/?z=1&a=2&code=" + M}, // order kept
		{"https://hooks.slack.com/services/T0/B0/XYZ", []string{"https://hooks.slack.com/services/T0/B0/XYZ"}, true, M},
		{"https://h.example.com/hook", []string{"zzzz"}, true, M}, // derived but not found: masked whole
		{"http://us er:pa ss@h/%zz", nil, false, "http://" + M + "@h/%zz"},
		{"/relative?token=1", nil, false, "/relative?token=" + M},
		{"", nil, true, ""},
	} {
		if got := New(tc.secrets...).URL(tc.in, tc.derived); got != tc.want {
			t.Errorf("URL(%q, %q) = %q, want %q", tc.in, tc.secrets, got, tc.want)
		}
	}
}

func TestBytesUnchangedWithoutSecret(t *testing.T) {
	m := New("long-secret-value")
	in := []byte("nothing to see")
	if out := m.Bytes(in); &out[0] != &in[0] {
		t.Error("Bytes copied a body without secrets")
	}
	if got := string(m.Bytes([]byte("x long-secret-value y"))); got != "x "+M+" y" {
		t.Errorf("Bytes = %q", got)
	}
}

// FuzzURL: a secret of MinInText characters or more never survives in a
// URL, however it is placed; neither does a URL password.
func FuzzURL(f *testing.F) {
	f.Add("https://hooks.example.com/services/abcdefgh", "abcdefgh")
	f.Add("https://u:abcdefgh@h/x", "abcdefgh")
	f.Add("https://h/?q=a%2Fbcdefgh", "a/bcdefgh")
	f.Fuzz(func(t *testing.T, u, secret string) {
		if utf8.RuneCountInString(secret) < MinInText || strings.Contains(secret, "•") || !utf8.ValidString(secret) {
			return
		}
		if out := New(secret).URL(u, false); strings.Contains(out, secret) {
			t.Fatalf("URL(%q, %q) = %q still contains the secret", u, secret, out)
		}
	})
}

// FuzzText: a long secret never survives; text without any secret form is
// returned unchanged.
func FuzzText(f *testing.F) {
	f.Add("invalid request", "q")
	f.Add("token abcdefgh!", "abcdefgh")
	f.Fuzz(func(t *testing.T, s, secret string) {
		if strings.Contains(secret, "•") || !utf8.ValidString(secret) {
			return
		}
		m := New(secret)
		out := m.Text(s)
		if utf8.RuneCountInString(secret) >= MinInText && strings.Contains(out, secret) {
			t.Fatalf("Text(%q) with secret %q = %q", s, secret, out)
		}
		if secret != "" && !strings.Contains(s, secret) && len(m.forms) == 1 && out != s {
			t.Fatalf("Text(%q) with secret %q changed text without it: %q", s, secret, out)
		}
	})
}

// The client passes every kept response header through Header; with
// nothing to mask that must cost nothing.
func TestHeaderWithoutSecretsDoesNotAllocate(t *testing.T) {
	var m *Masker
	if n := testing.AllocsPerRun(100, func() {
		m.Header("Content-Type", "text/plain", false)
		m.Header("X-Ratelimit-Remaining", "12", false)
		m.Text("HTTP 503 Service Unavailable")
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// BenchmarkMask measures what the engine does per attempt: mask the URL it
// records and the response body it keeps, with two known secrets.
func BenchmarkMask(b *testing.B) {
	m := New("xoxb-0123456789-abcdefghij", "q")
	u := "https://hooks.example.com/services/T0/B0/xoxb-0123456789-abcdefghij?team=ops&p=q"
	body := strings.Repeat(`{"ok":false,"error":"invalid request","detail":"token rejected"}`, 16)
	b.Run("URL", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.URL(u, true)
		}
	})
	b.Run("Text", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Text(body)
		}
	})
}
