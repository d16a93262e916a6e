#!/usr/bin/env python3
"""The invariants a reviewer checks by hand in deploy/, checked on what is rendered.

Reads the rendered Kubernetes overlays (`kubectl kustomize` output) and the rendered
compose file (`docker compose config` output), and checks:

- grace: a pod's terminationGracePeriodSeconds ≥ its preStop sleep + the drain the
  binary is configured with (gateway: CINDER_DRAIN_DEADLINE_MS, view-node:
  CINDER_DRAIN_TIMEOUT_MS); a compose service's stop_grace_period > that drain;
- probes: every container of a long-running workload has startup, readiness and
  liveness probes; every Cinder compose service has a healthcheck, and every
  `depends_on: service_healthy` names a service that has one;
- resources and securityContext on every workload container (non-root, seccomp
  RuntimeDefault, no privilege escalation, read-only root, all capabilities dropped);
- PodDisruptionBudgets select the pods of a workload, and the gateway and view-node
  workloads each have one; Services, ServiceMonitors, the HPA and the Ingress point at
  things that exist;
- images: every image has a tag, and none is `latest`;
- metrics: every `cinder_*` metric the alerts, the HPA and the dashboard read is named
  in the workspace's Rust sources (a renamed metric would leave them reading nothing);
- flags and variables: every `--flag` and every `CINDER_*` variable passed to
  `cinder-gateway` or `cinder-demo view-node` is one the binary's `--help` lists
  (`[env: NAME]`, or the default of a `--…-env` flag naming the variable). A
  `NAME_FILE` variable counts as NAME when the image's entrypoint reads it.

`--self-test` breaks each check once on a copy of the inputs and fails unless every
broken check reports it.

usage: check_invariants.py --k8s RENDERED.yaml… --compose RENDERED.yaml
           --gateway-help FILE|--gateway BIN  --view-node-help FILE|--app BIN
           [--entrypoint deploy/docker/entrypoint.sh] [--dashboard FILE]
           [--sources DIR] [--self-test]
"""

import argparse
import copy
import json
import os
import re
import subprocess
import sys

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}
# Variables read by something other than the binary's flags: the telemetry crate
# (OpenTelemetry's standard variables, RUST_LOG) and Kubernetes' $(VAR) helpers.
OTHER_VARIABLES = {"RUST_LOG", "POD_NAME", "POD_NAMESPACE", "TMPDIR"}
OTHER_PREFIXES = ("OTEL_",)
# The drains' defaults in the command-line contract, used when --help shows none.
DRAIN_DEFAULTS = {"gateway": ("--drain-deadline-ms", 30000), "view-node": ("--drain-timeout-ms", 10000)}


# === the binaries' --help ===


class Help:
    """The flags and variables one binary's clap help lists."""

    def __init__(self, text):
        self.text = text
        self.flags = set()
        self.variables = set()
        self.defaults = {}
        flag = None
        for line in text.splitlines():
            m = re.match(r"^\s*(?:-\w, )?(--[a-z0-9][a-z0-9-]*)", line)
            if m:
                flag = m.group(1)
                self.flags.add(flag)
            for env in re.findall(r"\[env: ([A-Z0-9_]+)", line):
                self.variables.add(env)
            d = re.search(r"\[default: ([^\]]+)\]", line)
            if d and flag:
                self.defaults[flag] = d.group(1)
                # `--secret-env NAME`: the variable it names by default is read.
                if flag.endswith("-env") and re.fullmatch(r"[A-Z0-9_]+", d.group(1)):
                    self.variables.add(d.group(1))

    def is_clap(self):
        return bool(self.flags) and "[env: " in self.text

    def drain_ms(self, role, env):
        flag, fallback = DRAIN_DEFAULTS[role]
        name = "CINDER_" + flag[2:].upper().replace("-", "_")
        if name in env:
            return int(env[name])
        try:
            return int(self.defaults.get(flag, fallback))
        except ValueError:
            return fallback


def help_of(path, args):
    """`path args… --help` with a bare environment (an old binary must not start)."""
    try:
        out = subprocess.run(
            [path, *args, "--help"],
            capture_output=True,
            text=True,
            timeout=20,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"(could not run {path}: {error})"
    return out.stdout + out.stderr


# === what a container or service runs ===


def role_of(command):
    """'gateway', 'view-node', or None, from a container's args / a service's command."""
    words = [str(w) for w in (command or [])]
    names = [os.path.basename(w) for w in words]
    if "cinder-gateway" in names:
        return "gateway"
    if "cinder-demo" in names and "view-node" in words:
        return "view-node"
    return None


def flags_in(command):
    return [w.split("=", 1)[0] for w in (command or []) if str(w).startswith("--")]


def image_ok(image):
    if not image:
        return "no image"
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if "@sha256:" in image:
        return None
    if ":" not in last:
        return f"image {image} has no tag"
    if last.endswith(":latest"):
        return f"image {image} uses latest"
    return None


class Checker:
    def __init__(self, helps, file_variables):
        self.helps = helps
        self.file_variables = file_variables
        self.failures = []
        self.counts = {}

    def ok(self, check):
        self.counts[check] = self.counts.get(check, 0) + 1

    def fail(self, check, where, message):
        self.counts[check] = self.counts.get(check, 0) + 1
        self.failures.append((check, f"{where}: {message}"))

    def variables_and_flags(self, where, role, names, command):
        help_ = self.helps[role]
        if not help_.is_clap():
            self.fail("flags", where, f"the {role} binary's --help lists no flags with [env: …] (not clap yet?)")
            return
        for name in names:
            if name in self.file_variables:
                name = self.file_variables[name]
            if name.startswith("CINDER_"):
                if name in help_.variables:
                    self.ok("flags")
                else:
                    self.fail("flags", where, f"{name} is not a variable `{role} --help` lists")
            elif name in OTHER_VARIABLES or name.startswith(OTHER_PREFIXES):
                self.ok("flags")
            else:
                self.fail("flags", where, f"{name}: no Cinder process reads it")
        for flag in flags_in(command):
            if flag in help_.flags:
                self.ok("flags")
            else:
                self.fail("flags", where, f"{flag} is not a flag `{role} --help` lists")

    # === Kubernetes ===

    def k8s(self, label, docs):
        docs = [d for d in docs if isinstance(d, dict)]
        workloads = [d for d in docs if d.get("kind") in WORKLOADS]
        services = [d for d in docs if d.get("kind") == "Service"]
        namespace = lambda d: d.get("metadata", {}).get("namespace")  # noqa: E731
        pod_labels = {}
        for w in workloads:
            where = f"{label} {w['kind']}/{w['metadata']['name']}"
            template = w.get("spec", {}).get("template", {})
            pod = template.get("spec", {})
            pod_labels[(namespace(w), w["kind"], w["metadata"]["name"])] = template.get("metadata", {}).get("labels", {})
            self.pod_security(where, pod)
            grace = pod.get("terminationGracePeriodSeconds", 30)
            for c in pod.get("containers", []):
                cwhere = f"{where} container {c.get('name')}"
                problem = image_ok(c.get("image"))
                if problem:
                    self.fail("images", cwhere, problem)
                else:
                    self.ok("images")
                self.container_security(cwhere, c.get("securityContext") or {})
                self.resources(cwhere, c.get("resources") or {})
                if w["kind"] in LONG_RUNNING:
                    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                        if probe in c:
                            self.ok("probes")
                        else:
                            self.fail("probes", cwhere, f"no {probe}")
                command = (c.get("command") or []) + (c.get("args") or [])
                role = role_of(command)
                if role is None:
                    continue
                env = {e["name"]: str(e.get("value", "")) for e in c.get("env", [])}
                self.variables_and_flags(cwhere, role, list(env), command)
                drain = self.helps[role].drain_ms(role, env) / 1000
                pre_stop = pre_stop_seconds(c)
                if grace >= pre_stop + drain:
                    self.ok("grace")
                else:
                    self.fail(
                        "grace",
                        cwhere,
                        f"terminationGracePeriodSeconds {grace} < preStop {pre_stop} s + drain {drain:g} s",
                    )
        for pdb in (d for d in docs if d.get("kind") == "PodDisruptionBudget"):
            where = f"{label} PodDisruptionBudget/{pdb['metadata']['name']}"
            selector = pdb.get("spec", {}).get("selector", {}).get("matchLabels", {})
            matched = [k for k, labels in pod_labels.items() if k[0] == namespace(pdb) and selects(selector, labels)]
            if selector and matched:
                self.ok("pdb")
            else:
                self.fail("pdb", where, f"selector {selector} selects no workload's pods")
        for (ns, kind, name), labels in pod_labels.items():
            if kind in LONG_RUNNING and name in ("cinder-gateway", "cinder-view-node"):
                covered = any(
                    selects(p.get("spec", {}).get("selector", {}).get("matchLabels", {}), labels)
                    for p in docs
                    if p.get("kind") == "PodDisruptionBudget" and namespace(p) == ns
                )
                if covered:
                    self.ok("pdb")
                else:
                    self.fail("pdb", f"{label} {kind}/{name}", "no PodDisruptionBudget selects its pods")
        for s in services:
            selector = s.get("spec", {}).get("selector")
            if not selector:
                continue
            if any(k[0] == namespace(s) and selects(selector, labels) for k, labels in pod_labels.items()):
                self.ok("references")
            else:
                self.fail("references", f"{label} Service/{s['metadata']['name']}", f"selector {selector} selects no pods")
        self.references(label, docs, services, namespace)

    def references(self, label, docs, services, namespace):
        by_name = {(namespace(s), s["metadata"]["name"]): s for s in services}
        for sm in (d for d in docs if d.get("kind") == "ServiceMonitor"):
            where = f"{label} ServiceMonitor/{sm['metadata']['name']}"
            selector = sm.get("spec", {}).get("selector", {}).get("matchLabels", {})
            targets = [s for s in services if namespace(s) == namespace(sm) and selects(selector, s["metadata"].get("labels", {}))]
            if not targets:
                self.fail("references", where, f"selector {selector} selects no Service")
                continue
            ports = {p.get("name") for s in targets for p in s.get("spec", {}).get("ports", [])}
            for endpoint in sm.get("spec", {}).get("endpoints", []):
                if endpoint.get("port") in ports:
                    self.ok("references")
                else:
                    self.fail("references", where, f"port {endpoint.get('port')!r} is not a port of {[s['metadata']['name'] for s in targets]}")
        for hpa in (d for d in docs if d.get("kind") == "HorizontalPodAutoscaler"):
            ref = hpa.get("spec", {}).get("scaleTargetRef", {})
            if any(d.get("kind") == ref.get("kind") and d["metadata"]["name"] == ref.get("name") and namespace(d) == namespace(hpa) for d in docs):
                self.ok("references")
            else:
                self.fail("references", f"{label} HorizontalPodAutoscaler/{hpa['metadata']['name']}", f"scales {ref}, which is not rendered")
        for ing in (d for d in docs if d.get("kind") == "Ingress"):
            for rule in ing.get("spec", {}).get("rules", []):
                for path in rule.get("http", {}).get("paths", []):
                    backend = path.get("backend", {}).get("service", {})
                    service = by_name.get((namespace(ing), backend.get("name")))
                    port = backend.get("port", {})
                    names = {p.get("name") for p in (service or {}).get("spec", {}).get("ports", [])}
                    numbers = {p.get("port") for p in (service or {}).get("spec", {}).get("ports", [])}
                    if service and (port.get("name") in names or port.get("number") in numbers):
                        self.ok("references")
                    else:
                        self.fail("references", f"{label} Ingress/{ing['metadata']['name']}", f"backend {backend} is not a Service port")

    def pod_security(self, where, pod):
        sc = pod.get("securityContext") or {}
        problems = []
        if sc.get("runAsNonRoot") is not True:
            problems.append("runAsNonRoot is not true")
        if (sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append("seccompProfile is not RuntimeDefault")
        self.report("securityContext", f"{where} pod", problems)

    def container_security(self, where, sc):
        problems = []
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append("allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append("readOnlyRootFilesystem is not true")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problems.append("capabilities do not drop ALL")
        self.report("securityContext", where, problems)

    def resources(self, where, resources):
        problems = []
        for key in ("cpu", "memory"):
            if key not in (resources.get("requests") or {}):
                problems.append(f"no {key} request")
        if "memory" not in (resources.get("limits") or {}):
            problems.append("no memory limit")
        self.report("resources", where, problems)

    def report(self, check, where, problems):
        if problems:
            self.fail(check, where, ", ".join(problems))
        else:
            self.ok(check)

    # === metrics ===

    def metrics(self, label, docs, dashboard, source_names):
        """Each `cinder_*` name the rules, the HPA and the dashboard read must be defined."""
        used = []
        for d in docs:
            if d.get("kind") == "PrometheusRule":
                for group in d.get("spec", {}).get("groups", []):
                    for rule in group.get("rules", []):
                        used += [(f"PrometheusRule {rule.get('alert')}", n) for n in metric_names(rule.get("expr", ""))]
            if d.get("kind") == "HorizontalPodAutoscaler":
                for m in d.get("spec", {}).get("metrics", []):
                    name = ((m.get("pods") or {}).get("metric") or {}).get("name", "")
                    used += [(f"HorizontalPodAutoscaler {d['metadata']['name']}", n) for n in metric_names(name)]
        for panel in (dashboard or {}).get("panels", []):
            for target in panel.get("targets", []):
                used += [(f"dashboard panel {panel.get('title')!r}", n) for n in metric_names(target.get("expr", ""))]
        for where, name in used:
            if source_names is None or name in source_names:
                self.ok("metrics")
            else:
                self.fail("metrics", f"{label} {where}", f"{name} is named in no Rust source of the workspace")

    # === Compose ===

    def compose(self, label, project):
        services = project.get("services", {})
        for name, s in services.items():
            where = f"{label} service {name}"
            problem = image_ok(s.get("image"))
            if problem:
                self.fail("images", where, problem)
            else:
                self.ok("images")
            for dep, how in (s.get("depends_on") or {}).items():
                if (how or {}).get("condition") == "service_healthy":
                    if (services.get(dep) or {}).get("healthcheck", {}).get("test"):
                        self.ok("probes")
                    else:
                        self.fail("probes", where, f"waits for {dep} to be healthy, which has no healthcheck")
            role = role_of(s.get("command"))
            if role is None:
                continue
            if (s.get("healthcheck") or {}).get("test") and not s["healthcheck"].get("disable"):
                self.ok("probes")
            else:
                self.fail("probes", where, "no healthcheck")
            nofile = (s.get("ulimits") or {}).get("nofile")
            if nofile:
                self.ok("resources")
            else:
                self.fail("resources", where, "no nofile ulimit")
            env = {k: str(v) for k, v in (s.get("environment") or {}).items()}
            self.variables_and_flags(where, role, list(env), s.get("command"))
            secrets = {x.get("source") if isinstance(x, dict) else x for x in (s.get("secrets") or [])}
            for variable, value in env.items():
                if variable in self.file_variables and value.startswith("/run/secrets/"):
                    if value.rsplit("/", 1)[-1] in secrets:
                        self.ok("references")
                    else:
                        self.fail("references", where, f"{variable}={value} but the service mounts no such secret")
            drain = self.helps[role].drain_ms(role, env) / 1000
            grace = duration(s.get("stop_grace_period", "10s"))
            if grace > drain:
                self.ok("grace")
            else:
                self.fail("grace", where, f"stop_grace_period {grace:g} s is not longer than the drain {drain:g} s")


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def pre_stop_seconds(container):
    pre_stop = (container.get("lifecycle") or {}).get("preStop") or {}
    if "sleep" in pre_stop:
        return int(pre_stop["sleep"].get("seconds", 0))
    command = (pre_stop.get("exec") or {}).get("command") or []
    if len(command) == 2 and os.path.basename(command[0]) == "sleep":
        return float(command[1])
    return 0


def duration(text):
    """Compose's durations: `40s`, `1m30s`, `500ms`, or a number of seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)(ms|us|h|m|s)", str(text)):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}[unit]
    return total


def metric_names(expr):
    """The `cinder_*` metrics an expression reads, histogram suffixes removed."""
    names = set()
    for name in re.findall(r"\bcinder_[a-z0-9_]+", expr):
        names.add(re.sub(r"_(bucket|sum|count)$", "", name))
    return sorted(names)


def source_metric_names(root):
    """Every quoted `cinder_*` string in the workspace's .rs files (build outputs skipped)."""
    names = set()
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in ("target", "node_modules", ".git", "fuzz")]
        for file in files:
            if file.endswith(".rs"):
                with open(os.path.join(directory, file), errors="replace") as f:
                    names.update(re.findall(r'"(cinder_[a-z0-9_]+)"', f.read()))
    return names


def entrypoint_variables(path):
    """NAME_FILE → NAME for each NAME the entrypoint's `for name in …` loop reads."""
    if not path:
        return {}
    with open(path) as f:
        m = re.search(r"^for name in ([A-Z0-9_ ]+); do", f.read(), re.M)
    return {f"{n}_FILE": n for n in (m.group(1).split() if m else [])}


# === the self-test: break each check once ===


def breakages(k8s, compose):
    """(check, description, mutate(k8s, compose)) for each check."""

    def workload(docs, kind, name):
        return next(d for d in docs if d.get("kind") == kind and d["metadata"]["name"] == name)

    def container(docs, kind, name):
        return workload(docs, kind, name)["spec"]["template"]["spec"]["containers"][0]

    def first(k):
        return next(iter(k.values()))

    def env_add(docs, kind, name, variable, value):
        container(docs, kind, name).setdefault("env", []).append({"name": variable, "value": value})

    return [
        ("grace", "gateway grace 20 s < 5 + 30", lambda k, c, g: workload(first(k), "Deployment", "cinder-gateway")["spec"]["template"]["spec"].__setitem__("terminationGracePeriodSeconds", 20)),
        ("grace", "view-node drain raised to 60 s", lambda k, c, g: env_add(first(k), "StatefulSet", "cinder-view-node", "CINDER_DRAIN_TIMEOUT_MS", "60000")),
        ("grace", "compose gateway stop_grace_period 10s", lambda k, c, g: c["services"]["gateway"].__setitem__("stop_grace_period", "10s")),
        ("probes", "view-node without a readinessProbe", lambda k, c, g: container(first(k), "StatefulSet", "cinder-view-node").pop("readinessProbe")),
        ("probes", "compose view-node without a healthcheck", lambda k, c, g: c["services"]["view-node"].pop("healthcheck")),
        ("resources", "gateway without a memory limit", lambda k, c, g: container(first(k), "Deployment", "cinder-gateway")["resources"].pop("limits")),
        ("securityContext", "redis may escalate", lambda k, c, g: container(first(k), "StatefulSet", "cinder-redis")["securityContext"].__setitem__("allowPrivilegeEscalation", True)),
        ("securityContext", "view-node pod without seccomp", lambda k, c, g: workload(first(k), "StatefulSet", "cinder-view-node")["spec"]["template"]["spec"]["securityContext"].pop("seccompProfile")),
        ("pdb", "gateway PDB selects a label no pod has", lambda k, c, g: workload(first(k), "PodDisruptionBudget", "cinder-gateway")["spec"]["selector"]["matchLabels"].__setitem__("app.kubernetes.io/name", "cinder-gatway")),
        ("images", "redis image untagged", lambda k, c, g: container(first(k), "StatefulSet", "cinder-redis").__setitem__("image", "redis")),
        ("images", "compose redis on latest", lambda k, c, g: c["services"]["redis"].__setitem__("image", "redis:latest")),
        ("flags", "gateway given an unknown variable", lambda k, c, g: env_add(first(k), "Deployment", "cinder-gateway", "CINDER_NO_SUCH_SETTING", "1")),
        ("flags", "view-node given an unknown flag", lambda k, c, g: container(first(k), "StatefulSet", "cinder-view-node")["args"].append("--no-such-flag")),
        ("flags", "compose gateway given an unknown variable", lambda k, c, g: c["services"]["gateway"]["environment"].__setitem__("CINDER_VIEWNODES", "x:7001")),
        ("metrics", "a dashboard panel on a metric nobody defines", lambda k, c, g: g["panels"].append({"title": "broken", "targets": [{"expr": "rate(cinder_no_such_metric_total[5m])"}]})),
        ("references", "gateway Service selects nothing", lambda k, c, g: workload(first(k), "Service", "cinder-gateway")["spec"]["selector"].__setitem__("app.kubernetes.io/name", "nothing")),
    ]


def self_test(k8s, compose, dashboard, make_checker, run, baseline):
    """Each breakage must add a failure of its check that the unbroken inputs lack."""
    failed = False
    known = set(baseline)
    for check, description, mutate in breakages(k8s, compose):
        k, c, g = copy.deepcopy(k8s), copy.deepcopy(compose), copy.deepcopy(dashboard or {"panels": []})
        try:
            mutate(k, c, g)
        except (KeyError, IndexError, StopIteration) as missing:
            print(f"  self-test FAILED: {description}: nothing to break ({missing!r} is not rendered)")
            failed = True
            continue
        checker = make_checker()
        run(checker, k, c, g)
        caught = [m for name, m in checker.failures if name == check and (name, m) not in known]
        if caught:
            print(f"  self-test: {description} → caught by {check}: {caught[0]}")
        else:
            print(f"  self-test FAILED: {description} was not caught by {check}")
            failed = True
    return not failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k8s", nargs="+", default=[], help="rendered overlays (label=file or file)")
    parser.add_argument("--compose", help="`docker compose config` output")
    parser.add_argument("--gateway", help="the cinder-gateway binary")
    parser.add_argument("--gateway-help", help="a file holding `cinder-gateway --help`")
    parser.add_argument("--app", help="the app binary (cinder-demo); its `view-node --help` is read")
    parser.add_argument("--view-node-help", help="a file holding `cinder-demo view-node --help`")
    parser.add_argument("--entrypoint", help="the image's entrypoint.sh (its NAME_FILE variables)")
    parser.add_argument("--dashboard", help="the Grafana dashboard's JSON")
    parser.add_argument("--sources", help="the workspace root, whose .rs files name the metrics")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()

    def read(path):
        with open(path) as f:
            return f.read()

    gateway_help = read(args.gateway_help) if args.gateway_help else help_of(args.gateway, [])
    view_node_help = read(args.view_node_help) if args.view_node_help else help_of(args.app, ["view-node"])
    helps = {"gateway": Help(gateway_help), "view-node": Help(view_node_help)}
    file_variables = entrypoint_variables(args.entrypoint)

    k8s = {}
    for spec in args.k8s:
        label, _, path = spec.rpartition("=")
        k8s[label or path] = [d for d in yaml.safe_load_all(read(path)) if d]
    compose = (yaml.safe_load(read(args.compose)) if args.compose else None) or {}
    compose.setdefault("services", {})

    dashboard = json.loads(read(args.dashboard)) if args.dashboard else None
    source_names = source_metric_names(args.sources) if args.sources else None

    def run(checker, k8s, compose, dashboard):
        for label, docs in k8s.items():
            checker.k8s(label, docs)
            checker.metrics(label, docs, dashboard if label == next(iter(k8s)) else None, source_names)
        checker.compose("compose", compose)

    checker = Checker(helps, file_variables)
    run(checker, k8s, compose, dashboard)

    for role, help_ in helps.items():
        print(f"  {role} --help: {len(help_.flags)} flags, {len(help_.variables)} variables" + ("" if help_.is_clap() else " (no clap help)"))
    for check in sorted(checker.counts):
        bad = [m for name, m in checker.failures if name == check]
        print(f"  {check}: {checker.counts[check]} checked, {len(bad)} failed")
        for message in bad:
            print(f"    FAIL {message}")
    ok = not checker.failures
    if args.self_test:
        ok = self_test(k8s, compose, dashboard, lambda: Checker(helps, file_variables), run, checker.failures) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
