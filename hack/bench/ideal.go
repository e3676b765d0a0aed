package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/applier"
)

// idealConcurrency is the ideal controller's owners in flight: bosun's default workers.
const idealConcurrency = 32

// Ideal is an ideal finalizer controller, timed first on the raw phase's fresh cluster, on N
// new owners (batch b): per owner, in a pool of idealConcurrency, the owner patch, every child
// apply and the Ready status apply, one after the other — bosun's writes in bosun's order,
// through bosun's clients (writer), without a read. Then its deletion: the harness deletes the
// owners and the controller, pipelined per owner, deletes the children and removes the
// finalizer. It runs as a process of its own (idealworker.go), straight to the API server
// with no client-side rate limit, as rawssa (/work/shared/tools/rawssa) does.
type Ideal struct {
	IdealConcurrency int `json:"idealConcurrency,omitempty"`
	// IdealSeconds runs from the first write until every owner's status was written.
	IdealSeconds float64 `json:"idealSeconds,omitempty"`
	// IdealCPUSeconds is the CPU of the controller's process meanwhile (getrusage), and
	// IdealCPUMsPerOwner that per owner.
	IdealCPUSeconds    float64 `json:"idealCPUSeconds,omitempty"`
	IdealCPUMsPerOwner float64 `json:"idealCPUMsPerOwner,omitempty"`
	IdealWrites        int     `json:"idealWrites,omitempty"`
	IdealFailed        int     `json:"idealFailed,omitempty"`
	IdealFirstError    string  `json:"idealFirstError,omitempty"`
	// IdealRequests and IdealDeleteRequests are the proxy's counts, in files from before the
	// ideal controller wrote straight to the API server.
	IdealRequests *Requests `json:"idealRequests,omitempty"`
	// IdealCurrentSeconds (a workload with Deployments) runs from the first write until every
	// Deployment was Current: what bosun's Ready waits for besides the writes.
	IdealCurrentSeconds float64 `json:"idealCurrentSeconds,omitempty"`
	// IdealDeleteSeconds runs from the first owner DELETE until the tracker saw every owner
	// and child of the batch gone, as bosun's delete phase is timed.
	IdealDeleteSeconds  float64   `json:"idealDeleteSeconds,omitempty"`
	IdealDeleteFailed   int       `json:"idealDeleteFailed,omitempty"`
	IdealDeleteRequests *Requests `json:"idealDeleteRequests,omitempty"`
}

// ideal times the ideal controller on n new owners, once the cluster is quiet. Nothing
// watches while it writes, as nothing watches rawssa, unless the workload has Deployments:
// then the tracker times their Current, and the deletion, as in bosun's phases.
func (g *generator) ideal(ctx context.Context, e *env, n int, res *RawResult) error {
	b := g.b
	if err := g.quiesce(ctx, e); err != nil {
		return err
	}
	var tr *tracker
	if b.shape.deployment {
		var err error
		if tr, err = startTracker(ctx, e, b.shape, nil); err != nil {
			return err
		}
		defer tr.close()
	}
	owners, err := e.createSites(ctx, batchB, "", n, b.o.namespaces)
	if err != nil {
		return err
	}
	items, err := g.prepare(ctx, owners)
	if err != nil {
		return err
	}
	job := &idealJob{Op: idealApply, Kubeconfig: e.cluster.KubeconfigPath(), HarnessKubeconfig: e.cluster.KubeconfigPath(), Concurrency: idealConcurrency}
	for i, it := range items {
		release, err := releasePatch(owners[i], b.instance)
		if err != nil {
			return err
		}
		o := idealOwner{Namespace: it.namespace, Name: it.name, Patch: it.patch, Status: it.status, Release: release}
		for _, c := range it.children {
			o.Children = append(o.Children, idealChild{Resource: c.Resource, Namespace: c.Namespace, Name: c.Name, Object: c.Object})
		}
		job.Owners = append(job.Owners, o)
	}
	res.IdealConcurrency = idealConcurrency
	res.IdealWrites = (2 + b.shape.perOwner()) * n
	b.logf("raw: ideal controller: %d owners, %d writes, %d owners in flight, straight to the API server", n, res.IdealWrites, idealConcurrency)
	rep, err := e.runIdeal(ctx, b, job, nil)
	if err != nil {
		return err
	}
	res.IdealSeconds = round(rep.End.Sub(rep.Start).Seconds(), 2)
	res.IdealCPUSeconds = round(rep.CPUSeconds, 2)
	res.IdealCPUMsPerOwner = round(rep.CPUSeconds*1000/float64(n), 2)
	res.IdealFailed, res.IdealFirstError = rep.Failed, rep.FirstError
	b.logf("raw: ideal controller: every status written %.1fs after the first write; cpu %.2fs (%.2f ms per owner); %d of %d writes failed",
		res.IdealSeconds, res.IdealCPUSeconds, res.IdealCPUMsPerOwner, rep.Failed, rep.Requests)
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d writes failed, first: %s", rep.Failed, rep.Requests, rep.FirstError)
	}
	if tr != nil {
		if err := g.waitCurrent(ctx, tr, batchB, n); err != nil {
			return err
		}
		res.IdealCurrentSeconds = round(time.Since(rep.Start).Seconds(), 2)
		b.logf("raw: ideal controller: every Deployment Current %.1fs after the first write", res.IdealCurrentSeconds)
	}

	job.Op = idealDelete
	for i := range job.Owners {
		for j := range job.Owners[i].Children {
			job.Owners[i].Children[j].UID = rep.UIDs[i][j]
		}
	}
	var goneAt time.Time
	var gone func() bool
	if tr != nil {
		gone = func() bool {
			if st := tr.state(batchB, ""); goneAt.IsZero() && st.Sites == 0 && st.left() == 0 {
				goneAt = time.Now()
			}
			return !goneAt.IsZero()
		}
	}
	rep, err = e.runIdeal(ctx, b, job, gone)
	if err != nil {
		return err
	}
	if tr == nil {
		// Without the tracker the last answer is the end: the answer to the finalizer's
		// removal is the owner's removal, and a child without finalizers is gone once its
		// DELETE is answered. A look afterwards, off the clock, makes sure.
		goneAt = rep.End
		if left, err := e.leftOf(ctx, batchB, b.shape); err != nil || left != "" {
			return fmt.Errorf("deletion: the controller is done but %s are left (%v)", left, err)
		}
	}
	res.IdealDeleteSeconds = round(goneAt.Sub(rep.Start).Seconds(), 2)
	res.IdealDeleteFailed = rep.Failed
	b.logf("raw: ideal deletion: every owner and child gone %.1fs after the first DELETE (the harness's DELETEs took %.1fs, the controller's last write %.1fs); %d of %d requests failed",
		res.IdealDeleteSeconds, rep.HarnessEnd.Sub(rep.Start).Seconds(), rep.End.Sub(rep.Start).Seconds(), rep.Failed, rep.Requests)
	if rep.Failed > 0 {
		return fmt.Errorf("deletion: %d of %d requests failed, first: %s", rep.Failed, rep.Requests, rep.FirstError)
	}
	return nil
}

// leftOf names what is left of a batch: its Sites and bosun's children in its namespaces,
// "3 Site, 2 ConfigMap"; "" when nothing is.
func (e *env) leftOf(ctx context.Context, batch string, sh shape) (string, error) {
	managed := metav1.ListOptions{LabelSelector: applier.LabelManagedBy + "=" + applier.ManagedByValue}
	counts := map[string]int{}
	for i := range e.namespaces {
		ns := namespaceOf(batch, i)
		sites, err := e.dyn.Resource(siteGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", err
		}
		counts["Site"] += len(sites.Items)
		cms, err := e.cs.CoreV1().ConfigMaps(ns).List(ctx, managed)
		if err != nil {
			return "", err
		}
		counts["ConfigMap"] += len(cms.Items)
		svcs, err := e.cs.CoreV1().Services(ns).List(ctx, managed)
		if err != nil {
			return "", err
		}
		counts["Service"] += len(svcs.Items)
		if sh.deployment {
			deps, err := e.cs.AppsV1().Deployments(ns).List(ctx, managed)
			if err != nil {
				return "", err
			}
			counts["Deployment"] += len(deps.Items)
		}
	}
	var parts []string
	for _, k := range []string{"Site", "ConfigMap", "Service", "Deployment"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	return strings.Join(parts, ", "), nil
}

// releasePatch is the JSON patch applier.ReleaseOwner sends, for an owner that got bosun's
// finalizer from ownerPatch (appended to the finalizers it had) and, with it, instance (the
// installation it tests is still the owner's).
func releasePatch(owner *unstructured.Unstructured, instance string) ([]byte, error) {
	path := fmt.Sprintf("/metadata/finalizers/%d", len(owner.GetFinalizers()))
	ops := []map[string]any{
		{"op": "test", "path": "/metadata/uid", "value": string(owner.GetUID())},
		{"op": "test", "path": path, "value": applier.Finalizer},
	}
	if instance != "" {
		ops = append(ops, map[string]any{"op": "test", "path": "/metadata/annotations/" + strings.ReplaceAll(applier.AnnotationInstance, "/", "~1"), "value": instance})
	}
	return json.Marshal(append(ops, map[string]any{"op": "remove", "path": path}))
}

// runIdeal runs an ideal controller process on job and returns its report. With done, it
// returns once the process exited and done said so too (done is called every 250 ms from the
// start, as the phases' waits poll), or fails after the phase timeout.
func (e *env) runIdeal(ctx context.Context, b *bench, job *idealJob, done func() bool) (idealReport, error) {
	var rep idealReport
	data, err := json.Marshal(job)
	if err != nil {
		return rep, err
	}
	path := filepath.Join(e.dir, "ideal-"+job.Op+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return rep, err
	}
	exe, err := os.Executable()
	if err != nil {
		return rep, err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), idealJobEnv+"="+path)
	cmd.Stdout, cmd.Stderr = &out, prefixWriter{b.log, "ideal: "}
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return rep, fmt.Errorf("ideal controller: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	wctx, cancel := context.WithTimeout(ctx, b.phaseTimeout(len(job.Owners)))
	defer cancel()
	var exitErr error
	finished := false
	err = poll(wctx, 250*time.Millisecond, func() (bool, error) {
		ok := done == nil || done()
		if !finished {
			select {
			case exitErr = <-exited:
				finished = true
			default:
			}
		}
		return finished && (ok || exitErr != nil), nil
	})
	if !finished {
		_ = cmd.Process.Kill()
		<-exited
	}
	switch {
	case finished && exitErr != nil:
		return rep, fmt.Errorf("ideal controller (%s): %w", job.Op, exitErr)
	case err != nil:
		return rep, fmt.Errorf("ideal controller (%s): %w", job.Op, err)
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return rep, fmt.Errorf("ideal controller (%s): its report: %w", job.Op, err)
	}
	return rep, nil
}

// compareIdeal puts bosun's times over the ideal controller's: cold's settled converge
// (readySeconds) over the ideal's — every status written and, with Deployments, every one
// Current, as no owner can truthfully be Ready before its Deployment is — and delete over
// idealDeleteSeconds.
func compareIdeal(r *Run) {
	if r.Raw == nil {
		return
	}
	ideal := max(r.Raw.IdealSeconds, r.Raw.IdealCurrentSeconds)
	if p := r.phase(phaseCold); p != nil && p.Failed == "" && p.ReadySeconds > 0 && ideal > 0 {
		p.VsIdeal = round(p.ReadySeconds/ideal, 2)
	}
	if p := r.phase(phaseDelete); p != nil && p.Failed == "" && p.Seconds > 0 && r.Raw.IdealDeleteSeconds > 0 {
		p.VsIdealDelete = round(p.Seconds/r.Raw.IdealDeleteSeconds, 2)
	}
}
