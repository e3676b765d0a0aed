package localcluster

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfigName names the cluster, user and context of the admin kubeconfig.
const kubeconfigName = "bosun-local"

// KubeconfigPath is the admin kubeconfig, <Dir>/kubeconfig.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// Kubeconfig returns the admin kubeconfig, the same as the file at KubeconfigPath. The
// certificates are inline, not file references, so the bytes work wherever they are stored on
// this machine: as the value of a cluster Secret (see ApplyClusterSecret), say. The server is a
// 127.0.0.1 address, so only processes on this machine can use it.
func (c *Cluster) Kubeconfig() ([]byte, error) {
	b, err := clientcmd.Write(c.kubeconfigConfig())
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return b, nil
}

// kubeconfigConfig is the admin kubeconfig, with the PEM data inline: a kubeconfig that names
// files breaks as soon as it is copied somewhere else.
func (c *Cluster) kubeconfigConfig() clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[kubeconfigName] = &clientcmdapi.Cluster{
		Server:                   c.restConfig.Host,
		CertificateAuthorityData: c.pki.caPEM,
	}
	cfg.AuthInfos[kubeconfigName] = &clientcmdapi.AuthInfo{
		ClientCertificateData: c.pki.adminCertPEM,
		ClientKeyData:         c.pki.adminKeyPEM,
	}
	cfg.Contexts[kubeconfigName] = &clientcmdapi.Context{Cluster: kubeconfigName, AuthInfo: kubeconfigName}
	cfg.CurrentContext = kubeconfigName
	return *cfg
}

func (c *Cluster) writeKubeconfig() error {
	if err := clientcmd.WriteToFile(c.kubeconfigConfig(), c.kubeconfig); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", c.kubeconfig, err)
	}
	return nil
}
