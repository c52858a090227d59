"""Structural checks of infra/ that schemas cannot express. Run by infra/scripts/validate-infra.

    validate_infra.py RENDERED.yaml   check Dockerfiles, compose and the rendered manifests
    validate_infra.py --concat        print infra/k8s + infra/k8s/migrate as one YAML stream
                                      (used when kubectl/kustomize is absent)
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "infra" / "k8s"
# Variables of the sync job (jobs/README.md), not in .env.example (which is the API's).
SYNC_VARS = {"EDUGRAPH_SYNC_CERT_FILE", "EDUGRAPH_SYNC_KEY_FILE", "EDUGRAPH_SYNC_INTERVAL_SECS",
             "EDUGRAPH_SYNC_CONCURRENCY", "EDUGRAPH_SYNC_LEASE_SECS", "EDUGRAPH_SYNC_PAGE_SIZE",
             "EDUGRAPH_SYNC_ROSTER", "EDUGRAPH_SYNC_ALG", "EDUGRAPH_SYNC_MEMBERS_EVERY_SECS"}
API_DRAIN_SECS = 30  # actix shutdown_timeout in backend/api/src/startup.rs

errors: list[str] = []


def check(ok: bool, message: str) -> None:
    if not ok:
        errors.append(message)


def known_vars() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*(EDUGRAPH_[A-Z0-9_]+)=", text, re.M)) | SYNC_VARS


def concat() -> None:
    docs = []
    for kdir in (K8S / "migrate", K8S):
        kust = yaml.safe_load((kdir / "kustomization.yaml").read_text())
        for res in kust.get("resources", []):
            docs.extend(d for d in yaml.safe_load_all((kdir / res).read_text()) if d)
    print(yaml.safe_dump_all(docs, sort_keys=False), end="")


def stages(dockerfile: Path) -> list[list[str]]:
    """Instructions per stage (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    result: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append([])
        if result:
            result[-1].append(line)
    return result


def check_dockerfiles() -> None:
    for path in sorted((ROOT / "infra" / "docker").glob("Dockerfile.*")):
        name = path.name
        st = stages(path)
        final = st[-1]
        check(" AS runtime" in final[0], f"{name}: the last (default) stage is `runtime`")
        users = [i.split()[1] for stage in st for i in stage if i.upper().startswith("USER ")]
        final_users = [i.split()[1] for i in final if i.upper().startswith("USER ")]
        check(bool(final_users) and final_users[-1].split(":")[0] not in ("0", "root"),
              f"{name}: the runtime stage runs as a non-root USER")
        check(all(u.split(":")[0] not in ("0", "root") for u in users), f"{name}: no stage switches to root")
        build = " ".join(i for i in st[0])
        check("cargo build --release --locked" in build, f"{name}: builds with --release --locked")
        check(not re.search(r"(ARG|ENV)\s+\S*(SECRET|PASSWORD|TOKEN_KEY)", path.read_text()),
              f"{name}: no secret in ARG/ENV (it would stay in the image)")
        if name != "Dockerfile.emulator":
            check("SQLX_OFFLINE=true" in build, f"{name}: SQLX_OFFLINE=true (builds need no database)")
    api = (ROOT / "infra" / "docker" / "Dockerfile.api").read_text()
    check("--no-default-features" in api, "Dockerfile.api: production build without the demo feature")
    ignore = (ROOT / ".dockerignore").read_text().split()
    for pattern in ("target", ".git", ".env", ".secrets"):
        check(any(p.strip("/*") == pattern for p in ignore), f".dockerignore excludes {pattern}")


def seconds(value: str) -> int:
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(value))
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0) if m else 0


def check_compose(known: set[str]) -> None:
    compose = yaml.safe_load((ROOT / "infra" / "compose.yaml").read_text())
    services = compose["services"]
    for name, svc in services.items():
        for key in (svc.get("environment") or {}):
            if key.startswith("EDUGRAPH_"):
                check(key in known, f"compose {name}: {key} is not a known EDUGRAPH_* variable (.env.example)")
        for dep in (svc.get("depends_on") or {}):
            check(dep in services, f"compose {name}: depends on unknown service {dep}")
        for secret in svc.get("secrets") or []:
            check(secret in compose.get("secrets", {}), f"compose {name}: unknown secret {secret}")
        mode = svc.get("network_mode", "")
        if mode.startswith("service:"):
            check(mode.split(":", 1)[1] in services, f"compose {name}: network_mode names an unknown service")
    for name in ("api", "api-demo"):
        check(seconds(services[name].get("stop_grace_period", "10s")) > API_DRAIN_SECS,
              f"compose {name}: stop_grace_period above the {API_DRAIN_SECS} s drain")
    check(services["migrate"]["command"] == ["migrate"], "compose migrate runs `edugraph migrate`")
    check(services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully",
          "compose api starts after migrations completed")
    check("sync" in services and services["sync"].get("build", {}).get("target") == "scheduled",
          "compose sync uses the scheduled target")
    check(services["emulator"].get("profiles") == ["demo"], "compose emulator only in the demo profile")


def probe_path(container: dict, probe: str) -> str:
    return ((container.get(probe) or {}).get("httpGet") or {}).get("path", "")


def check_manifests(rendered: Path, known: set[str]) -> None:
    docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]
    docs += [d for d in yaml.safe_load_all((K8S / "secret.example.yaml").read_text()) if d]
    by_kind: dict[str, dict[str, dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    dep = by_kind["Deployment"]["edugraph-api"]
    pod = dep["spec"]["template"]["spec"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    (api,) = pod["containers"]
    check(probe_path(api, "readinessProbe") == "/readyz", "api readiness probe on /readyz")
    check(probe_path(api, "livenessProbe") == "/healthz", "api liveness probe on /healthz")
    res = api.get("resources", {})
    check({"cpu", "memory"} <= set(res.get("requests", {})), "api requests cpu and memory")
    check("memory" in res.get("limits", {}), "api has a memory limit")
    pre_stop = ((api.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0)
    check(pod.get("terminationGracePeriodSeconds", 30) > pre_stop + API_DRAIN_SECS,
          "api terminationGracePeriodSeconds above preStop + drain bound")
    check(dep["spec"]["replicas"] >= 2, "api runs at least two replicas")
    check(dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, "rolling updates keep every replica")
    for name, workload in (("api", pod), ("migrate", by_kind["Job"]["edugraph-migrate"]["spec"]["template"]["spec"]),
                           ("sync", by_kind["Deployment"]["edugraph-sync"]["spec"]["template"]["spec"])):
        check(workload["securityContext"].get("runAsNonRoot") is True, f"{name}: runAsNonRoot")
        check(workload.get("automountServiceAccountToken") is False, f"{name}: no service account token")
        for c in workload["containers"]:
            sc = c.get("securityContext", {})
            check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False,
                  f"{name}: read-only root filesystem, no privilege escalation")
            for src in c.get("envFrom", []):
                ref = src.get("configMapRef") or src.get("secretRef")
                kind = "ConfigMap" if "configMapRef" in src else "Secret"
                check(ref["name"] in by_kind.get(kind, {}), f"{name}: envFrom {kind} {ref['name']} exists")
            for env in c.get("env", []):
                check(env["name"] in known, f"{name}: {env['name']} is not a known variable")
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    secret = by_kind["Secret"].get(ref["name"], {})
                    check(ref["key"] in secret.get("stringData", {}), f"{name}: secret key {ref['key']} exists")
    for kind in ("ConfigMap", "Secret"):
        for obj in by_kind.get(kind, {}).values():
            for key in obj.get("data") or obj.get("stringData") or {}:
                if key.startswith("EDUGRAPH_"):
                    check(key in known, f"{kind} {obj['metadata']['name']}: {key} is not a known variable")
    migrate = by_kind["Job"]["edugraph-migrate"]["spec"]["template"]["spec"]["containers"][0]
    check(migrate["args"] == ["migrate"] and migrate["image"] == api["image"],
          "migrate Job runs `edugraph migrate` from the API image")
    svc = by_kind["Service"]["edugraph-api"]["spec"]
    check(all(labels.get(k) == v for k, v in svc["selector"].items()), "Service selects the API pods")
    ports = {p["name"] for p in api["ports"]}
    check(all(p["targetPort"] in ports for p in svc["ports"]), "Service targets a named container port")
    pdb = by_kind["PodDisruptionBudget"]["edugraph-api"]["spec"]
    check(all(labels.get(k) == v for k, v in pdb["selector"]["matchLabels"].items()), "PDB selects the API pods")
    check(pdb.get("minAvailable", 0) < dep["spec"]["replicas"], "PDB leaves room to drain a node")
    workers = by_kind["Deployment"]["edugraph-sync"]["spec"]
    check("CronJob" not in by_kind, "the sync workers replace the single CronJob pod")
    check(workers.get("replicas", 1) >= 2, "several sync workers share the tenants")
    check(all(workers["template"]["metadata"]["labels"].get(k) == v
              for k, v in workers["selector"]["matchLabels"].items()), "sync Deployment selects its pods")
    job_pod = workers["template"]["spec"]
    (sync,) = job_pod["containers"]
    check(sync["args"][:2] == ["run", "--every"] and len(sync["args"]) == 3,
          "sync workers run `edugraph-sync run --every DURATION`")
    check(job_pod.get("terminationGracePeriodSeconds", 30) >= 30,
          "sync workers get time to commit their page after SIGTERM")
    mounts = [m["mountPath"] for m in sync.get("volumeMounts", [])]
    for var in ("EDUGRAPH_SYNC_CERT_FILE", "EDUGRAPH_SYNC_KEY_FILE"):
        value = next((e.get("value", "") for e in sync.get("env", []) if e["name"] == var), "")
        check(any(value.startswith(m + "/") for m in mounts), f"sync {var} points into a mounted secret")
    ing = by_kind["Ingress"]["edugraph-api"]["spec"]
    backends = [p["backend"]["service"] for r in ing["rules"] for p in r["http"]["paths"]]
    check(all(b["name"] == "edugraph-api" and b["port"].get("name") in {p["name"] for p in svc["ports"]}
              for b in backends), "Ingress routes to the API Service's named port")
    check(bool(ing.get("tls")), "Ingress terminates TLS (the __Host- cookies need https)")
    pols = by_kind["NetworkPolicy"]
    api_pol = pols["edugraph-api"]["spec"]
    check(all(labels.get(k) == v for k, v in api_pol["podSelector"]["matchLabels"].items()),
          "API NetworkPolicy selects the API pods")
    check(set(api_pol["policyTypes"]) == {"Ingress", "Egress"}, "API NetworkPolicy restricts both directions")
    check(sorted(p["port"] for r in api_pol["ingress"] for p in r["ports"]) == ["http", "metrics"],
          "API NetworkPolicy admits only the HTTP and metrics ports")
    check(all(p["targetPort"] != "metrics" for p in svc["ports"]), "the Service does not expose /metrics (R-D8)")
    jobs_pol = pols["edugraph-jobs"]["spec"]
    selected = set(jobs_pol["podSelector"]["matchExpressions"][0]["values"])
    check(selected == {"edugraph-sync", "edugraph-migrate"}, "jobs NetworkPolicy selects sync and migrate pods")
    check(jobs_pol.get("ingress") == [], "job pods accept no connections")
    for name, pol in (("api", api_pol), ("jobs", jobs_pol)):
        egress = {p["port"] for r in pol["egress"] for p in r["ports"]}
        check(egress == {53, 3306, 443}, f"{name} egress only DNS, MySQL and HTTPS (got {sorted(egress)})")
    if known and "EDUGRAPH_TRUST_FORWARDED_FOR" in by_kind["ConfigMap"].get("edugraph-config", {}).get("data", {}):
        check(by_kind["ConfigMap"]["edugraph-config"]["data"]["EDUGRAPH_TRUST_FORWARDED_FOR"] == "true",
              "behind the Ingress, the API trusts the proxy's X-Forwarded-For entry")


def main() -> int:
    if sys.argv[1:] == ["--concat"]:
        concat()
        return 0
    known = known_vars()
    check_dockerfiles()
    check_compose(known)
    check_manifests(Path(sys.argv[1]), known)
    for e in errors:
        print(f"FAIL {e}", file=sys.stderr)
    if errors:
        return 1
    print("structural checks: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
