"""CI's check of compose.yaml where `docker compose config` cannot run: the
file parses, every file it mounts exists, and nginx's upstream for it names
exactly its app services on the port they listen on (it must match the nginx
setup of deploy/cluster.sh, which mounts the same chattconnect.conf)."""
import pathlib
import re
import sys

import yaml

here = pathlib.Path(__file__).resolve().parent
compose = yaml.safe_load((here / "compose.yaml").read_text())
services = compose["services"]
problems = []
apps = {name for name, svc in services.items() if svc.get("image") == "chattconnect:latest"}
if len(apps) < 2:
    problems.append(f"expected at least two app services, found {sorted(apps)}")
for name, svc in services.items():
    for volume in svc.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith(".") and not (here / source).exists():
            problems.append(f"{name} mounts {source}, which does not exist")
    if name in apps:
        bind = svc["environment"]["BIND"]
        if not bind.endswith(":3000"):
            problems.append(f"{name} listens on {bind}, not the image's port 3000")
        if not (here / svc["env_file"]).exists():
            problems.append(f"{name}'s env_file {svc['env_file']} does not exist")
upstream = (here / "nginx/upstream.compose.conf").read_text()
servers = dict(re.findall(r"server\s+([\w.-]+):(\d+)", upstream))
if set(servers) != apps:
    problems.append(f"nginx's upstream names {sorted(servers)}, compose's app services are {sorted(apps)}")
if any(port != "3000" for port in servers.values()):
    problems.append(f"nginx's upstream ports {servers} are not all 3000")
mounted = [v for v in services["nginx"]["volumes"] if "chattconnect.conf" in v]
if mounted != ["./nginx/chattconnect.conf:/etc/nginx/conf.d/chattconnect.conf:ro"]:
    problems.append("nginx does not mount deploy/nginx/chattconnect.conf, the configuration cluster.sh uses")
if problems:
    print("compose.yaml:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"compose.yaml: {len(services)} services; nginx's upstream matches {sorted(apps)}")
