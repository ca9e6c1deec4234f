// Package deploy_test checks the deployment files that no test can run
// here (there is no container engine or cluster): every YAML document
// parses, the essentials are wired together, and every awumeter
// configuration in them passes the validation of `awumeter config check`.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/awumeter/awumeter/internal/config"
)

// loadConfig validates an awumeter configuration as `awumeter config check`
// does, with env as the only environment.
func loadConfig(t *testing.T, name string, text []byte, env map[string]string) config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "awumeter.yaml")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, config.Sources{Env: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		for _, p := range config.Problems(err) {
			t.Errorf("%s: %s", name, p)
		}
		t.FailNow()
	}
	return cfg
}

// documents parses every YAML document of a file.
func documents(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, &n)
	}
}

func decodeNode(t *testing.T, n *yaml.Node, v any) {
	t.Helper()
	if err := n.Decode(v); err != nil {
		t.Fatalf("line %d: %v", n.Line, err)
	}
}

// listenPort is the port of http.listen.
func listenPort(t *testing.T, cfg config.Config) string {
	t.Helper()
	_, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil || port == "" {
		t.Fatalf("http.listen %q has no port", cfg.HTTP.Listen)
	}
	return port
}

// configFlag returns the value of --config in a command line.
func configFlag(t *testing.T, args []string) string {
	t.Helper()
	i := slices.Index(args, "--config")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("%q does not pass --config", args)
	}
	return args[i+1]
}

func subset(small, big map[string]string) bool {
	if len(small) == 0 {
		return false
	}
	for k, v := range small {
		if big[k] != v {
			return false
		}
	}
	return true
}

// Kubernetes objects, as far as the checks read them.
type (
	object struct {
		Kind       string
		Metadata   struct{ Name string }
		Data       map[string]string
		StringData map[string]string `yaml:"stringData"`
	}
	labelSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	deployment struct {
		Spec struct {
			Replicas int
			Selector labelSelector
			Template struct {
				Metadata struct{ Labels map[string]string }
				Spec     podSpec
			}
		}
	}
	job struct {
		Spec struct{ Template struct{ Spec podSpec } }
	}
	podSpec struct {
		TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
		Containers                    []container
		Volumes                       []struct {
			Name      string
			ConfigMap *struct{ Name string } `yaml:"configMap"`
			Secret    *struct {
				SecretName string `yaml:"secretName"`
			}
		}
	}
	container struct {
		Name  string
		Image string
		Args  []string
		Env   []struct {
			Name      string
			Value     string
			ValueFrom any `yaml:"valueFrom"`
		}
		Ports []struct {
			Name          string
			ContainerPort int `yaml:"containerPort"`
		}
		LivenessProbe  *probe `yaml:"livenessProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		Resources      struct{ Requests, Limits map[string]string }
		VolumeMounts   []struct {
			Name      string
			MountPath string `yaml:"mountPath"`
			SubPath   string `yaml:"subPath"`
		} `yaml:"volumeMounts"`
	}
	probe struct {
		HTTPGet *struct {
			Path string
			Port any
		} `yaml:"httpGet"`
	}
	service struct {
		Spec struct {
			Selector map[string]string
			Ports    []struct {
				Name       string
				Port       int
				TargetPort any `yaml:"targetPort"`
			}
		}
	}
	pdb struct {
		Spec struct {
			Selector       labelSelector
			MaxUnavailable any `yaml:"maxUnavailable"`
			MinAvailable   any `yaml:"minAvailable"`
		}
	}
)

// kube is every object of deploy/kubernetes, by kind and name.
type kube struct {
	objects map[string]map[string]*yaml.Node
}

func (k kube) one(t *testing.T, kind string) (string, *yaml.Node) {
	t.Helper()
	objs := k.objects[kind]
	if len(objs) != 1 {
		t.Fatalf("want one %s, found %d", kind, len(objs))
	}
	for name, n := range objs {
		return name, n
	}
	panic("unreachable")
}

func loadKube(t *testing.T) kube {
	t.Helper()
	var kust struct{ Resources []string }
	docs := documents(t, "kubernetes/kustomization.yaml")
	decodeNode(t, docs[0], &kust)
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	k := kube{objects: map[string]map[string]*yaml.Node{}}
	for _, f := range files {
		base := filepath.Base(f)
		if base == "kustomization.yaml" {
			continue
		}
		if !slices.Contains(kust.Resources, base) {
			t.Errorf("%s is not listed in kustomization.yaml", base)
		}
		for _, d := range documents(t, f) {
			var o object
			decodeNode(t, d, &o)
			if o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("%s line %d: a document without kind or metadata.name", f, d.Line)
			}
			if k.objects[o.Kind] == nil {
				k.objects[o.Kind] = map[string]*yaml.Node{}
			}
			k.objects[o.Kind][o.Metadata.Name] = d
		}
	}
	for _, r := range kust.Resources {
		if _, err := os.Stat(filepath.Join("kubernetes", r)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", r, err)
		}
	}
	return k
}

func TestKubernetesManifests(t *testing.T) {
	k := loadKube(t)

	cmName, cmNode := k.one(t, "ConfigMap")
	var cm object
	decodeNode(t, cmNode, &cm)
	secretName, secretNode := k.one(t, "Secret")
	var secret object
	decodeNode(t, secretNode, &secret)

	_, depNode := k.one(t, "Deployment")
	var dep deployment
	decodeNode(t, depNode, &dep)
	pod := dep.Spec.Template.Spec
	labels := dep.Spec.Template.Metadata.Labels
	if dep.Spec.Replicas < 2 {
		t.Errorf("Deployment: replicas %d; run several so that the group shares the partitions", dep.Spec.Replicas)
	}
	if !subset(dep.Spec.Selector.MatchLabels, labels) {
		t.Errorf("Deployment: selector %v does not match the pod labels %v", dep.Spec.Selector.MatchLabels, labels)
	}
	i := slices.IndexFunc(pod.Containers, func(c container) bool { return c.Name == "awumeter" })
	if i < 0 {
		t.Fatal("Deployment: no container named awumeter")
	}
	c := pod.Containers[i]

	// The ConfigMap's configuration is mounted where --config reads it and
	// passes validation with the container's environment.
	path := configFlag(t, c.Args)
	key := ""
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			key = m.SubPath
			if v := volume(pod, m.Name); v == nil || v.ConfigMap == nil || v.ConfigMap.Name != cmName {
				t.Errorf("%s is not mounted from ConfigMap %s", path, cmName)
			}
		}
	}
	text, ok := cm.Data[key]
	if key == "" || !ok {
		t.Fatalf("--config %s is not a key of ConfigMap %s", path, cmName)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if e.ValueFrom != nil {
			env[e.Name] = "awumeter-6d9f7c5b8-x2x4q" // a pod name
		}
	}
	cfg := loadConfig(t, "ConfigMap "+cmName, []byte(text), env)

	// The password file is a key of the Secret, mounted.
	pw := cfg.ClickHouse.PasswordFile
	if pw == "" || cfg.ClickHouse.Password != "" {
		t.Errorf("the ClickHouse password must come from clickhouse.password_file, not the ConfigMap")
	} else {
		checkSecretFile(t, "Deployment", pod, c, secretName, secret, pw)
	}

	// Probes on the metrics port.
	port := listenPort(t, cfg)
	metricsPort := ""
	for _, p := range c.Ports {
		if fmt.Sprint(p.ContainerPort) == port {
			metricsPort = p.Name
		}
	}
	if metricsPort == "" {
		t.Fatalf("no container port is http.listen's %s", port)
	}
	for _, p := range []struct {
		name, path string
		probe      *probe
	}{{"livenessProbe", "/healthz", c.LivenessProbe}, {"readinessProbe", "/readyz", c.ReadinessProbe}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: missing or not an httpGet probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s: path %s, want %s", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if got := fmt.Sprint(p.probe.HTTPGet.Port); got != metricsPort && got != port {
			t.Errorf("%s: port %s, want %s (%s)", p.name, got, metricsPort, port)
		}
	}

	grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second
	if grace <= cfg.ShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds %s must exceed shutdown_timeout %s", grace, cfg.ShutdownTimeout)
	}
	for _, r := range []struct {
		kind string
		m    map[string]string
		keys []string
	}{{"requests", c.Resources.Requests, []string{"cpu", "memory"}}, {"limits", c.Resources.Limits, []string{"memory"}}} {
		for _, key := range r.keys {
			if r.m[key] == "" {
				t.Errorf("resources.%s.%s is not set", r.kind, key)
			}
		}
	}

	_, svcNode := k.one(t, "Service")
	var svc service
	decodeNode(t, svcNode, &svc)
	if !subset(svc.Spec.Selector, labels) {
		t.Errorf("Service: selector %v does not match the pod labels %v", svc.Spec.Selector, labels)
	}
	if len(svc.Spec.Ports) != 1 || (fmt.Sprint(svc.Spec.Ports[0].TargetPort) != metricsPort && fmt.Sprint(svc.Spec.Ports[0].TargetPort) != port) {
		t.Errorf("Service: must expose the metrics port %s", metricsPort)
	}

	_, pdbNode := k.one(t, "PodDisruptionBudget")
	var budget pdb
	decodeNode(t, pdbNode, &budget)
	if !subset(budget.Spec.Selector.MatchLabels, labels) || len(budget.Spec.Selector.MatchLabels) != len(dep.Spec.Selector.MatchLabels) ||
		!subset(dep.Spec.Selector.MatchLabels, budget.Spec.Selector.MatchLabels) {
		t.Errorf("PodDisruptionBudget: selector %v, want the Deployment's %v", budget.Spec.Selector.MatchLabels, dep.Spec.Selector.MatchLabels)
	}
	if (budget.Spec.MaxUnavailable == nil) == (budget.Spec.MinAvailable == nil) {
		t.Error("PodDisruptionBudget: set one of maxUnavailable and minAvailable")
	}
	if n, ok := budget.Spec.MinAvailable.(int); ok && n >= dep.Spec.Replicas {
		t.Errorf("PodDisruptionBudget: minAvailable %d blocks every drain with %d replicas", n, dep.Spec.Replicas)
	}

	// The migrate Job reaches the same database with the same secret.
	_, jobNode := k.one(t, "Job")
	var j job
	decodeNode(t, jobNode, &j)
	if len(j.Spec.Template.Spec.Containers) != 1 {
		t.Fatal("Job: want one container")
	}
	mc := j.Spec.Template.Spec.Containers[0]
	flag := func(name string) string {
		i := slices.Index(mc.Args, name)
		if len(mc.Args) == 0 || mc.Args[0] != "migrate" || i < 0 || i+1 >= len(mc.Args) {
			t.Fatalf("Job: args %q must be migrate with %s", mc.Args, name)
		}
		return mc.Args[i+1]
	}
	if got := flag("--clickhouse"); got != strings.Join(cfg.ClickHouse.Addrs, ",") {
		t.Errorf("Job: --clickhouse %s, the service uses %v", got, cfg.ClickHouse.Addrs)
	}
	if got := flag("--database"); got != cfg.ClickHouse.Database {
		t.Errorf("Job: --database %s, the service uses %s", got, cfg.ClickHouse.Database)
	}
	checkSecretFile(t, "Job", j.Spec.Template.Spec, mc, secretName, secret, flag("--password-file"))
	if mc.Image != c.Image {
		t.Errorf("Job: image %s, the Deployment runs %s", mc.Image, c.Image)
	}
}

func volume(pod podSpec, name string) *struct {
	Name      string
	ConfigMap *struct{ Name string } `yaml:"configMap"`
	Secret    *struct {
		SecretName string `yaml:"secretName"`
	}
} {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

// checkSecretFile checks that path is a key of the Secret, mounted in c.
func checkSecretFile(t *testing.T, what string, pod podSpec, c container, secretName string, secret object, path string) {
	t.Helper()
	dir, key := filepath.Dir(path), filepath.Base(path)
	for _, m := range c.VolumeMounts {
		if m.MountPath != dir {
			continue
		}
		if v := volume(pod, m.Name); v == nil || v.Secret == nil || v.Secret.SecretName != secretName {
			t.Errorf("%s: %s is not mounted from Secret %s", what, dir, secretName)
		}
		_, inString := secret.StringData[key]
		_, inData := secret.Data[key]
		if !inString && !inData {
			t.Errorf("%s: Secret %s has no key %s", what, secretName, key)
		}
		return
	}
	t.Errorf("%s: nothing is mounted at %s, where the password file is read", what, dir)
}

// Compose services, as far as the checks read them. yaml.v3 applies the
// file's <<: merge keys.
type composeService struct {
	Image       string
	Build       any
	Command     []string
	Environment map[string]string
	Volumes     []string
	Ports       []string
	Profiles    []string
	DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	StopGrace   string                                `yaml:"stop_grace_period"`
	Healthcheck *struct{ Test []string }
}

// interpolate resolves ${VAR:-default} the way compose does when VAR is unset.
var interpolation = regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)

func TestDockerCompose(t *testing.T) {
	docs := documents(t, "docker-compose.yml")
	if len(docs) != 1 {
		t.Fatalf("docker-compose.yml: %d documents", len(docs))
	}
	var file struct{ Services map[string]composeService }
	decodeNode(t, docs[0], &file)
	svcs := file.Services
	for _, name := range []string{"kafka", "topics", "clickhouse", "migrate", "awumeter"} {
		if _, ok := svcs[name]; !ok {
			t.Fatalf("no %s service", name)
		}
	}
	if img := svcs["kafka"].Image; !strings.HasPrefix(img, "apache/kafka:4.") {
		t.Errorf("kafka: image %s, want apache/kafka 4", img)
	}
	if env := svcs["kafka"].Environment; env["KAFKA_PROCESS_ROLES"] != "broker,controller" {
		t.Errorf("kafka: want a combined KRaft broker and controller, got roles %q", env["KAFKA_PROCESS_ROLES"])
	}
	if img := svcs["clickhouse"].Image; !strings.HasPrefix(img, "clickhouse/clickhouse-server:25.") {
		t.Errorf("clickhouse: image %s, want ClickHouse 25", img)
	}
	for _, name := range []string{"kafka", "clickhouse"} {
		if svcs[name].Healthcheck == nil {
			t.Errorf("%s: no healthcheck; the services after it wait for it to be healthy", name)
		}
	}

	mig := svcs["migrate"]
	if len(mig.Command) == 0 || mig.Command[0] != "migrate" || mig.DependsOn["clickhouse"].Condition != "service_healthy" {
		t.Errorf("migrate: must run awumeter migrate once ClickHouse is healthy, got %q %v", mig.Command, mig.DependsOn)
	}

	aw := svcs["awumeter"]
	if aw.Build == nil || mig.Build == nil {
		t.Error("awumeter and migrate must build deploy/Dockerfile")
	}
	for dep, cond := range map[string]string{"migrate": "service_completed_successfully", "topics": "service_completed_successfully", "kafka": "service_healthy"} {
		if aw.DependsOn[dep].Condition != cond {
			t.Errorf("awumeter: depends_on %s must be %s, got %q", dep, cond, aw.DependsOn[dep].Condition)
		}
	}
	path := configFlag(t, aw.Command)
	src := ""
	for _, v := range aw.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == path {
			src = parts[0]
		}
	}
	if src == "" {
		t.Fatalf("awumeter: nothing is mounted at --config %s", path)
	}
	text, err := os.ReadFile(src) // relative to deploy/, like the compose file
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range aw.Environment {
		env[k] = interpolation.ReplaceAllString(v, "$1")
	}
	cfg := loadConfig(t, src, text, env)
	if env["AWUMETER_CLICKHOUSE_PASSWORD"] != interpolation.ReplaceAllString(svcs["clickhouse"].Environment["CLICKHOUSE_PASSWORD"], "$1") {
		t.Error("awumeter: AWUMETER_CLICKHOUSE_PASSWORD must be the ClickHouse service's password")
	}
	if cfg.ClickHouse.Username != svcs["clickhouse"].Environment["CLICKHOUSE_USER"] {
		t.Errorf("awumeter: clickhouse.username %s, the server's user is %s", cfg.ClickHouse.Username, svcs["clickhouse"].Environment["CLICKHOUSE_USER"])
	}
	for _, b := range cfg.Kafka.Brokers {
		if !strings.Contains(svcs["kafka"].Environment["KAFKA_ADVERTISED_LISTENERS"], "//"+b) {
			t.Errorf("kafka.brokers %s is not an advertised listener of the kafka service", b)
		}
	}
	if want := "clickhouse:9000"; !slices.Contains(cfg.ClickHouse.Addrs, want) {
		t.Errorf("clickhouse.addrs %v, want %s", cfg.ClickHouse.Addrs, want)
	}
	topics := strings.Join(svcs["topics"].Command, " ")
	for _, tc := range cfg.Kafka.Topics {
		if !strings.Contains(topics, tc.Name) {
			t.Errorf("the topics service does not create %s", tc.Name)
		}
	}
	if !strings.Contains(topics, cfg.Kafka.DeadLetterTopic) {
		t.Errorf("the topics service does not create the dead-letter topic %s", cfg.Kafka.DeadLetterTopic)
	}
	grace, err := time.ParseDuration(aw.StopGrace)
	if err != nil || grace <= cfg.ShutdownTimeout {
		t.Errorf("awumeter: stop_grace_period %q must exceed shutdown_timeout %s", aw.StopGrace, cfg.ShutdownTimeout)
	}
	if port := listenPort(t, cfg); !slices.ContainsFunc(aw.Ports, func(p string) bool { return strings.HasSuffix(p, ":"+port) }) {
		t.Errorf("awumeter: port %s (http.listen) is not published", port)
	}
}

func TestDemoConfig(t *testing.T) {
	text, err := os.ReadFile("demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, "demo.yaml", text, nil)
	script, err := os.ReadFile("demo.sh")
	if err != nil {
		t.Fatal(err)
	}
	name := func(v string) string {
		m := regexp.MustCompile(`(?m)^` + v + `=(\S+)$`).FindSubmatch(script)
		if m == nil {
			t.Fatalf("demo.sh does not set %s", v)
		}
		return string(m[1])
	}
	if len(cfg.Kafka.Topics) != 1 || cfg.Kafka.Topics[0].Name != name("topic") || cfg.Kafka.Topics[0].Format != "json" {
		t.Errorf("demo.yaml topics %+v; demo.sh produces json to %s", cfg.Kafka.Topics, name("topic"))
	}
	if cfg.Kafka.DeadLetterTopic != name("dlq") {
		t.Errorf("demo.yaml dead_letter_topic %s; demo.sh prepares %s", cfg.Kafka.DeadLetterTopic, name("dlq"))
	}
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var entrypoint, cmd string
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "FROM":
			froms = append(froms, f[1])
		case "ENTRYPOINT":
			entrypoint = strings.Join(f[1:], " ")
		case "CMD":
			cmd = strings.Join(f[1:], " ")
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got stages %v", froms)
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVersion == nil || !strings.HasPrefix(froms[0], "golang:"+string(goVersion[1])) {
		t.Errorf("build stage %s, want golang:%s as in go.mod", froms[0], goVersion[1])
	}
	if final := froms[len(froms)-1]; !strings.Contains(final, "distroless") && !strings.HasPrefix(final, "alpine") {
		t.Errorf("final stage %s, want distroless or alpine", final)
	}
	if !strings.Contains(string(data), "./cmd/awumeter") || !strings.Contains(entrypoint, "awumeter") {
		t.Error("the image must build ./cmd/awumeter and run it")
	}
	if !strings.Contains(cmd, `"/etc/awumeter/awumeter.yaml"`) {
		t.Errorf("CMD %s: the compose file and the manifests mount the configuration at /etc/awumeter/awumeter.yaml", cmd)
	}
}
