package watcher

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/renderer"
)

// Condition reasons bosun writes on owners and uses for Events.
const (
	ReasonApplied       = "Applied"
	ReasonReady         = "Ready"
	ReasonProgressing   = "Progressing"
	ReasonRenderFailed  = "RenderFailed"
	ReasonInvalidOutput = "InvalidOutput"
	ReasonUnknownKind   = "UnknownKind"
	ReasonRefused       = "Refused"
	ReasonImmutable     = "ImmutableField"
	ReasonRejected      = "Rejected"
	ReasonForbidden     = "Forbidden"
	ReasonPruneRefused  = "PruneRefused"
	ReasonApplyFailed   = "ApplyFailed"
	ReasonPruned        = "Pruned"
	ReasonDeleted       = "Deleted"
	ReasonRecreated     = "Recreated"
	ReasonRolloutPaused = "RolloutPaused"
	ReasonHookFailed    = "HookFailed"
	ReasonKept          = "Kept"
	ReasonDriftRepaired = "DriftRepaired"
	// ReasonClusterUnreachable: a workload cluster of the owner did not answer or refused
	// bosun's credentials; ReasonClusterNotAllowed: the owner names a cluster its watch does
	// not let it use; ReasonClusterUnknown: it names one that is not configured.
	ReasonClusterUnreachable = "ClusterUnreachable"
	ReasonClusterNotAllowed  = "ClusterNotAllowed"
	ReasonClusterUnknown     = "ClusterUnknown"
)

// reasonOf classifies a reconcile error for the owner's condition and Event.
func reasonOf(err error) string {
	var (
		re       *renderer.Error
		unknown  *applier.UnknownKindError
		policy   *applier.PolicyError
		limit    *DeleteLimitError
		immut    *applier.ImmutableError
		statusEr apierrors.APIStatus
	)
	var cerr *clusterError
	switch {
	case errors.As(err, &cerr):
		return cerr.reason
	case errors.As(err, new(*ClusterUnreachableError)), errors.As(err, new(*clusterGoneError)):
		return ReasonClusterUnreachable
	case errors.As(err, &re):
		if re.Document > 0 {
			return ReasonInvalidOutput
		}
		return ReasonRenderFailed
	case errors.As(err, &unknown):
		return ReasonUnknownKind
	case errors.As(err, new(*hookError)):
		return ReasonHookFailed
	case errors.As(err, &policy):
		return ReasonRefused
	case errors.As(err, &limit):
		return ReasonPruneRefused
	case errors.As(err, &immut):
		return ReasonImmutable
	case apierrors.IsForbidden(err):
		return ReasonForbidden
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), errors.As(err, &statusEr) && statusEr.Status().Code == 422, badPatch(err):
		return ReasonRejected
	}
	return ReasonApplyFailed
}
