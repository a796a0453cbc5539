package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store/postgres"
)

// TestIngestRefusesBadKeysFromEverySource covers issue 13 D4 where every
// source meets it, the engine's Ingest: ids that differ in a byte that is
// not UTF-8 were folded into one and the second entry was taken for a
// duplicate and lost. Whichever source brings them, such entries are now
// refused naming the field, never counted as duplicates; and an entry
// whose texts hold NUL or a lone surrogate is stored — on PostgreSQL too,
// whose text columns refuse both (set AUDITRELAY_TEST_POSTGRES).
func TestIngestRefusesBadKeysFromEverySource(t *testing.T) {
	backends := map[string]func(*Options){"sqlite": nil}
	if url := os.Getenv("AUDITRELAY_TEST_POSTGRES"); url != "" {
		backends["postgres"] = func(o *Options) {
			st, err := postgres.Open(context.Background(), postgres.Options{URL: url, Schema: testSchema(t, url), Instance: "test-1", MaxConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			o.Store = st
			o.SharedStore = true
		}
	} else {
		t.Log("AUDITRELAY_TEST_POSTGRES is not set: PostgreSQL not covered")
	}
	for name, tune := range backends {
		t.Run(name, func(t *testing.T) {
			h := startEngineWith(t, testConfig(t, webhookSub("hook", "http://127.0.0.1:1/unused", "")), tune)
			bad := func(id string) []byte {
				return []byte(`{"_id":"` + id + `","date":1737540002113,"kind":"flag","accesses":[{"action":"updateOn","resource":"proj/p:env/e:flag/f"}]}`)
			}
			good := []byte(`{"_id":"texts-ok","date":1737540002113,"kind":"flag","title":"a\u0000b\ud800c",` +
				`"member":{"email":"m\u0000@example.com"},"accesses":[{"action":"updateOn","resource":"proj/p:env/e:flag/f"}]}`)
			for _, src := range []string{"webhook", "poller", "replay"} {
				items := []source.Item{
					{Raw: bad("\xfeXYZ1"), Source: src},
					{Raw: bad("\xffXYZ1"), Source: src},
					{Raw: bad(`XYZ1\u0000`), Source: src},
					{Raw: bad(`\ud800XYZ1`), Source: src},
					{Raw: good, Source: src},
				}
				res, err := h.eng.Ingest(context.Background(), items, nil)
				if err != nil {
					t.Fatalf("%s: Ingest: %v", src, err)
				}
				for i, r := range res[:4] {
					if r.Err == nil || r.Duplicate || !strings.Contains(r.Err.Error(), `"_id": `) {
						t.Errorf("%s item %d: %+v, want refused naming _id", src, i, r)
					}
				}
				// Stored once (by the first source), a duplicate after.
				if r := res[4]; r.Err != nil || r.ID != "texts-ok" || r.Duplicate != (src != "webhook") {
					t.Errorf("%s: entry with NUL in its texts: %+v", src, r)
				}
			}
		})
	}
}

// testSchema creates nothing: postgres.Open creates the schema; the test
// drops it when it ends.
func testSchema(t *testing.T, url string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_keys_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}
