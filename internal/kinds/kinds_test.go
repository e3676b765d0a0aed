package kinds

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestInstallOrderMatchesKindsWithTheirGroup(t *testing.T) {
	crd := InstallRank(schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"})
	svc := InstallRank(schema.GroupKind{Kind: "Service"})
	if !(crd < svc && svc < Unranked) {
		t.Errorf("ranks: CRD %d, Service %d, unranked %d", crd, svc, Unranked)
	}
	if r := InstallRank(schema.GroupKind{Group: "example.com", Kind: "Service"}); r != Unranked {
		t.Errorf("a custom kind called Service ranks %d, want last (%d)", r, Unranked)
	}
}

func TestEveryRankedKindIsInTheTable(t *testing.T) {
	for _, gk := range installOrder {
		if _, ok := Lookup(gk); !ok {
			t.Errorf("%s is in the install order but not in the table", gk)
		}
	}
}
