package localcluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// startKwok starts kwok, registers the fake Node and waits until kwok has made it Ready.
func (c *Cluster) startKwok(ctx context.Context) error {
	begin := time.Now()
	p, err := c.startProcess(Kwok, c.kwokArgs(), c.kwokEnv(), &c.kwok)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return fmt.Errorf("%s: client: %w", Kwok, err)
	}
	node := fakeNode()
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("Node/%s: create: %w", node.Name, err)
	}
	ready := func(ctx context.Context) error {
		n, err := cs.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("Node/%s: not Ready", node.Name)
	}
	if err := waitFor(ctx, p, "Node/"+node.Name, ready); err != nil {
		return err
	}
	c.logf("kwok: Node/%s Ready after %s", node.Name, since(begin))
	return nil
}

// fakeNode is the Node kwok plays the kubelet for. It has no taint, so ordinary workloads
// land on it, and room for more pods than the benchmark's 10,000 Deployments run during a
// rollout (kwok's pod CIDR, a /16, is the real bound).
func fakeNode() *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("60000"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        KwokNodeName,
			Annotations: map[string]string{KwokNodeAnnotation: KwokNodeValue},
			Labels: map[string]string{
				"kubernetes.io/hostname": KwokNodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: "kwok-" + KwokVersion},
		},
	}
}

// defaultServiceAccount succeeds once kube-controller-manager has created the "default"
// ServiceAccount of the "default" namespace.
func (c *Cluster) defaultServiceAccount(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
	return err
}
