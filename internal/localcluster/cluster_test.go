package localcluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bosun-dev/bosun/internal/localcluster"
	"github.com/bosun-dev/bosun/internal/testenv"
)

// logWriter sends the cluster's progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestFullCluster runs one cluster with every component, because starting one is the
// expensive part, and checks in order what the rest of bosun relies on.
func TestFullCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Options{
		Dir: t.TempDir(), ControllerManager: true, Scheduler: true, Kwok: true, Log: logWriter{t},
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	pids := c.PIDs()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			c.Stop()
		}
	})
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a Deployment becomes Available with Ready pods", func(t *testing.T) {
		ns := createNamespace(t, cs)
		createDeployment(t, cs, ns, "web", 2)
		testenv.Eventually(t, time.Minute, func() error { return deploymentAvailable(cs, ns, "web", 2) })
	})

	t.Run("deleting a Deployment garbage-collects its ReplicaSets and pods", func(t *testing.T) {
		ns := createNamespace(t, cs)
		createDeployment(t, cs, ns, "doomed", 1)
		testenv.Eventually(t, time.Minute, func() error { return deploymentAvailable(cs, ns, "doomed", 1) })
		background := metav1.DeletePropagationBackground
		err := cs.AppsV1().Deployments(ns).Delete(context.Background(), "doomed", metav1.DeleteOptions{
			PropagationPolicy: &background,
		})
		if err != nil {
			t.Fatalf("Deployment/%s/doomed: delete: %v", ns, err)
		}
		testenv.Eventually(t, time.Minute, func() error {
			rs, err := cs.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				return err
			}
			pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				return err
			}
			if n := len(rs.Items) + len(pods.Items); n > 0 {
				return fmt.Errorf("%d ReplicaSets and %d pods left", len(rs.Items), len(pods.Items))
			}
			return nil
		})
	})

	t.Run("deleting a namespace with a workload completes", func(t *testing.T) {
		ns := createNamespace(t, cs)
		createDeployment(t, cs, ns, "web", 1)
		testenv.Eventually(t, time.Minute, func() error { return deploymentAvailable(cs, ns, "web", 1) })
		if err := cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("Namespace/%s: delete: %v", ns, err)
		}
		testenv.Eventually(t, time.Minute, func() error {
			_, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("Namespace/%s still there (err %v)", ns, err)
		})
	})

	t.Run("a restarted kube-apiserver serves on the same address", func(t *testing.T) {
		ns := createNamespace(t, cs)
		if err := c.StopAPIServer(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		if _, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
			t.Fatal("get succeeded with kube-apiserver stopped")
		}
		if err := c.StartAPIServer(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
		if _, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err != nil {
			t.Fatalf("get after restart: %v", err)
		}
	})

	t.Run("a restarted etcd keeps the data", func(t *testing.T) {
		ns := createNamespace(t, cs)
		if err := c.StopEtcd(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		short, cancelShort := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancelShort()
		_, err := cs.CoreV1().ConfigMaps(ns).Create(short, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
		if err == nil {
			t.Fatal("create succeeded with etcd stopped")
		}
		if err := c.StartEtcd(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
		if _, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err != nil {
			t.Fatalf("get after restart: %v", err)
		}
	})

	t.Run("stop leaves no process behind", func(t *testing.T) {
		want := []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}
		var got []string
		for name := range pids {
			got = append(got, name)
		}
		if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("started components (-want +got):\n%s", diff)
		}
		pids = c.PIDs() // the restarted ones
		stopped = true
		if err := c.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		for name, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("%s (pid %d) still exists after Stop: kill 0 = %v", name, pid, err)
			}
		}
	})
}

func createNamespace(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "lc-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

func createDeployment(t *testing.T, cs kubernetes.Interface, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	_, err := cs.AppsV1().Deployments(ns).Create(context.Background(), &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				// kwok never runs the image; it only has to be valid.
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("Deployment/%s/%s: create: %v", ns, name, err)
	}
}

// deploymentAvailable checks the Deployment's Available condition and that its pods are
// Running and Ready.
func deploymentAvailable(cs kubernetes.Interface, ns, name string, replicas int32) error {
	d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	available := false
	for _, c := range d.Status.Conditions {
		available = available || (c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue)
	}
	if !available || d.Status.ReadyReplicas != replicas {
		return fmt.Errorf("Deployment/%s/%s: available=%v ready=%d/%d", ns, name, available, d.Status.ReadyReplicas, replicas)
	}
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		return err
	}
	ready := 0
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if p.Status.Phase == corev1.PodRunning && c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	if ready != int(replicas) {
		return fmt.Errorf("Deployment/%s/%s: %d of %d pods Running and Ready", ns, name, ready, len(pods.Items))
	}
	return nil
}
