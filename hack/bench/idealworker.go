package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

// The ideal controller runs in a process of its own, the bench binary started again with
// idealJobEnv naming a job file, so that its CPU is its own: the harness's process also runs
// the counting proxy and the tracker's watches. It reads the job (every body prepared by the
// harness), sends the writes, and prints an idealReport on stdout.

// idealJobEnv names the job file of an ideal controller process.
const idealJobEnv = "BOSUN_BENCH_IDEAL_JOB"

// Ops of an ideal job.
const (
	idealApply  = "apply"
	idealDelete = "delete"
)

type idealJob struct {
	Op string `json:"op"`
	// Kubeconfig is the controller's way to the API server and HarnessKubeconfig the
	// harness's, for the owner DELETEs; both go straight to it, as rawssa's requests do.
	Kubeconfig        string `json:"kubeconfig"`
	HarnessKubeconfig string `json:"harnessKubeconfig"`
	// Concurrency is the owners in flight: the controller's, and the harness's DELETEs.
	Concurrency int          `json:"concurrency"`
	Owners      []idealOwner `json:"owners"`
}

// idealOwner is one owner's writes, as bosun sends them.
type idealOwner struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Patch is the owner patch (finalizer and inventory, ownerPatch), Status the Ready status
	// (readyStatus), Release the JSON patch that removes the finalizer (releasePatch).
	Patch    json.RawMessage            `json:"patch"`
	Status   *unstructured.Unstructured `json:"status"`
	Release  json.RawMessage            `json:"release"`
	Children []idealChild               `json:"children"`
}

type idealChild struct {
	Resource  schema.GroupVersionResource `json:"resource"`
	Namespace string                      `json:"namespace,omitempty"`
	Name      string                      `json:"name"`
	Object    *unstructured.Unstructured  `json:"object"`
	UID       types.UID                   `json:"uid,omitempty"` // delete: the precondition
}

// idealReport is what an ideal controller process measured.
type idealReport struct {
	// Start is when the first request went out, End when the last answer came (wall clock,
	// which the harness shares); CPUSeconds is getrusage(RUSAGE_SELF) of the process
	// between the two: the client's own work (encoding, TLS, HTTP/2, decoding the answers).
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	CPUSeconds float64   `json:"cpuSeconds"`
	// HarnessEnd (delete) is when the harness's last owner DELETE was answered.
	HarnessEnd time.Time `json:"harnessEnd,omitzero"`
	Requests   int       `json:"requests"`
	Failed     int       `json:"failed"`
	FirstError string    `json:"firstError,omitempty"`
	// UIDs are each owner's children's UIDs (apply), for the deletes' preconditions.
	UIDs [][]types.UID `json:"uids,omitempty"`
}

// tally counts the requests of a job and their failures.
type tally struct {
	mu    sync.Mutex
	rep   *idealReport
	first error
}

// note counts one request; it tells whether it succeeded.
func (t *tally) note(err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rep.Requests++
	if err != nil {
		t.rep.Failed++
		if t.first == nil {
			t.first = err
			t.rep.FirstError = err.Error()
		}
	}
	return err == nil
}

// idealWorker runs the job in jobPath and prints its report on out.
func idealWorker(jobPath string, out io.Writer) error {
	data, err := os.ReadFile(jobPath)
	if err != nil {
		return err
	}
	var job idealJob
	if err := json.Unmarshal(data, &job); err != nil {
		return fmt.Errorf("%s: %w", jobPath, err)
	}
	w, err := writerFor(job.Kubeconfig)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var rep idealReport
	switch job.Op {
	case idealApply:
		rep = job.apply(ctx, w)
	case idealDelete:
		harness, err := writerFor(job.HarnessKubeconfig)
		if err != nil {
			return err
		}
		rep = job.delete(ctx, w, harness.dyn)
	default:
		return fmt.Errorf("%s: unknown op %q", jobPath, job.Op)
	}
	return json.NewEncoder(out).Encode(rep)
}

// writerFor is a writer on kubeconfig without a client-side rate limit, as rawssa's: every
// request of the process goes over one HTTP/2 connection, as bosun's do.
func writerFor(kubeconfig string) (writer, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return writer{}, fmt.Errorf("%s: %w", kubeconfig, err)
	}
	return newWriter(unlimited(cfg))
}

// apply sends each owner's writes in bosun's order and through bosun's clients (writer), one
// request at a time per owner and Concurrency owners at once: the owner patch, every child
// apply, the Ready status apply. A failed write is counted and the owner's next one still goes
// out. (bosun applies the kinds of one apply wave at once — the site workload's Service and
// Deployment —, which saves it a round trip per owner here; light's ConfigMap and Service are
// in two waves, one after the other in bosun too.)
func (job *idealJob) apply(ctx context.Context, w writer) idealReport {
	rep := idealReport{UIDs: make([][]types.UID, len(job.Owners))}
	t := &tally{rep: &rep}
	cpu := selfCPU()
	rep.Start = time.Now()
	_, _ = forEach(ctx, len(job.Owners), job.Concurrency, func(ctx context.Context, i int) error {
		o := job.Owners[i]
		t.note(w.patchOwner(ctx, o.Namespace, o.Name, o.Patch))
		uids := make([]types.UID, len(o.Children))
		for j, c := range o.Children {
			uid, err := w.applyChild(ctx, c.Resource, c.Object)
			if t.note(err) {
				uids[j] = uid
			}
		}
		rep.UIDs[i] = uids
		t.note(w.applyStatus(ctx, o.Status))
		return nil
	})
	rep.End = time.Now()
	rep.CPUSeconds = round((selfCPU() - cpu).Seconds(), 3)
	return rep
}

// delete is the harness deleting every owner, Concurrency DELETEs in flight, and, as each
// DELETE is answered, the controller (Concurrency owners at once) deleting the owner's
// children as bosun does (background propagation, UID precondition; all of an owner's at
// once, as bosun deletes the kinds of one delete wave) and then removing its finalizer with
// a JSON patch, which lets the API server remove the owner.
func (job *idealJob) delete(ctx context.Context, w writer, harness dynamic.Interface) idealReport {
	var rep idealReport
	t := &tally{rep: &rep}
	deleting := make(chan int, len(job.Owners))
	cpu := selfCPU()
	rep.Start = time.Now()
	go func() {
		defer close(deleting)
		_, _ = forEach(ctx, len(job.Owners), job.Concurrency, func(ctx context.Context, i int) error {
			o := job.Owners[i]
			if t.note(harness.Resource(siteGVR).Namespace(o.Namespace).Delete(ctx, o.Name, metav1.DeleteOptions{})) {
				deleting <- i
			}
			return nil
		})
		t.mu.Lock()
		rep.HarnessEnd = time.Now()
		t.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for range job.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range deleting {
				o := job.Owners[i]
				var children sync.WaitGroup
				for _, c := range o.Children {
					if c.UID == "" {
						continue // its apply failed
					}
					children.Go(func() { t.note(w.deleteChild(ctx, c.Resource, c.Namespace, c.Name, c.UID)) })
				}
				children.Wait()
				t.note(w.release(ctx, o.Namespace, o.Name, o.Release))
			}
		}()
	}
	wg.Wait()
	rep.End = time.Now()
	rep.CPUSeconds = round((selfCPU() - cpu).Seconds(), 3)
	return rep
}
