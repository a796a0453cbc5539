package show

import (
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

func TestDeliveryMarksListItems(t *testing.T) {
	d := api.DeliveryDetail{DeliveryView: api.DeliveryView{ID: "dlv_1", Subscription: "slack", EntryID: "e1", EntryTitle: "Turned on x"}}
	var full strings.Builder
	if err := Delivery(&full, d, DeliveryOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(full.String(), "list item") {
		t.Errorf("a full entry is marked:\n%s", full.String())
	}
	d.EntryListItem = "LaunchDarkly has no full entry for it (404: deleted after it was listed)"
	var listed strings.Builder
	if err := Delivery(&listed, d, DeliveryOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "entry        e1  Turned on x\n             rendered from a list item only: LaunchDarkly has no full entry for it (404: deleted after it was listed)\nstate"
	if !strings.Contains(listed.String(), want) {
		t.Errorf("show lacks the mark %q:\n%s", want, listed.String())
	}
}
