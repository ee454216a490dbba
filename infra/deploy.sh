#!/usr/bin/env bash
# Deploys workspace-sync to one Google Cloud project: service accounts and least-privilege IAM, the Cloud
# Functions (gen2), Pub/Sub + Cloud Scheduler (through infra/cli.ts, from shared/topology.ts), and the
# Firestore rules/indexes and console hosting. See infra/README.md.
#
#   infra/deploy.sh --project P --region R [--env prod] [--project-number N] [--console-origin URL]
#                   [--only step,step] [--dry-run]
#
# Steps, in order: apis service-accounts project-iam functions invokers messaging resource-iam firebase
# The first run needs a project owner (IAM steps); routine deploys can run as the deployer account with
#   --only functions,messaging,firebase
set -euo pipefail

# ---- What gets deployed (names must be the keys of functions/src/entries/entry-points.ts) --------------------
# Every function deploys the same source; package.json "main" (functions/src/main.ts) imports only the entry
# module of the function named by FUNCTION_TARGET, which the runtime sets from --entry-point, so each instance
# loads only its own function's code (bench/cold-start.ts measures it).
# Invoked by Pub/Sub push subscriptions that infra/cli.ts manages (retry, dead-letter, ack deadline from
# shared/topology.ts). They are HTTP-triggered on purpose: `--trigger-topic` would add a second, Eventarc-owned
# subscription next to ours and every message would be delivered twice.
PUSH_FUNCTIONS=(tick syncEntity deadLetter deliverNotifications)
# Public HTTP endpoints; each authenticates its callers itself (OAuth state, Firebase ID token, webhook secret).
HTTP_FUNCTIONS=(api)

RUNTIME=nodejs20
TICK_TIMEOUT=60          # = ack deadline of ws-sync-tick-push
DEAD_LETTER_TIMEOUT=60   # = ack deadline of ws-sync-dead-letter-push
NOTIFY_TIMEOUT=540       # below the 600 s ack deadline of ws-sync-notifications-push (bounded webhook retries)
SYNC_TIMEOUT=540         # below the 600 s ack deadline of ws-sync-entity-push; the sync checkpoints well before
SYNC_MAX_INSTANCES=20    # bounds concurrent Directory API load per project
HTTP_TIMEOUT=60

# ---- Names (topics and subscriptions come from shared/topology.ts; a test checks they match) ----------------
TICK_TOPIC=ws-sync-tick
SYNC_TOPIC=ws-sync-entity
DEAD_LETTER_TOPIC=ws-sync-dead-letter
NOTIFICATIONS_TOPIC=ws-sync-notifications
DEAD_LETTER_SOURCES=(ws-sync-tick-push ws-sync-entity-push ws-sync-notifications-push)
RUNTIME_SA_ID=ws-sync-runtime
PUSH_SA_ID=ws-sync-push
DEPLOYER_SA_ID=ws-sync-deployer
SECRET_CREATOR_ROLE=wsSyncTenantSecretCreator
SECRET_PREFIX=ws-tenant-

ALL_STEPS=(apis service-accounts project-iam functions invokers messaging resource-iam firebase)

PROJECT="${GOOGLE_CLOUD_PROJECT:-}"
REGION="${INFRA_REGION:-}"
ENV_NAME="${INFRA_ENV:-prod}"
PROJECT_NUMBER="${PROJECT_NUMBER:-}"
# Where Firebase Hosting serves the console (the default site of a Firebase project is named after it). The api
# function needs it twice: as its CORS origin, and as the origin of the OAuth redirect URIs, which reach the api
# through the hosting rewrites of firebase.json.
CONSOLE_ORIGIN=""
ONLY=""
DRY_RUN=0

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --project) PROJECT="$2"; shift 2 ;;
    --region) REGION="$2"; shift 2 ;;
    --env) ENV_NAME="$2"; shift 2 ;;
    --project-number) PROJECT_NUMBER="$2"; shift 2 ;;
    --console-origin) CONSOLE_ORIGIN="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ -z "$PROJECT" || -z "$REGION" ]]; then
  echo "--project and --region are required" >&2
  usage >&2
  exit 2
fi

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONSOLE_ORIGIN="${CONSOLE_ORIGIN:-https://${PROJECT}.web.app}"

RUNTIME_SA="${RUNTIME_SA_ID}@${PROJECT}.iam.gserviceaccount.com"
PUSH_SA="${PUSH_SA_ID}@${PROJECT}.iam.gserviceaccount.com"
DEPLOYER_SA="${DEPLOYER_SA_ID}@${PROJECT}.iam.gserviceaccount.com"
FUNCTIONS_BASE_URL="https://${REGION}-${PROJECT}.cloudfunctions.net"

# Prints the command in dry-run mode, runs it otherwise.
run() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '%q ' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# True when the resource already exists; always false in dry-run so every create is printed.
exists() {
  [[ "$DRY_RUN" == 1 ]] && return 1
  "$@" >/dev/null 2>&1
}

wants() {
  [[ -z "$ONLY" ]] && return 0
  [[ ",$ONLY," == *",$1,"* ]]
}

resolve_project_number() {
  if [[ -n "$PROJECT_NUMBER" ]]; then return; fi
  if [[ "$DRY_RUN" == 1 ]]; then
    PROJECT_NUMBER='<PROJECT_NUMBER>'
  else
    PROJECT_NUMBER="$(gcloud projects describe "$PROJECT" --format='value(projectNumber)')"
  fi
}

step_apis() {
  run gcloud services enable --project "$PROJECT" \
    cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com \
    pubsub.googleapis.com cloudscheduler.googleapis.com secretmanager.googleapis.com firestore.googleapis.com \
    iamcredentials.googleapis.com admin.googleapis.com
}

step_service_accounts() {
  local id
  for id in "$RUNTIME_SA_ID" "$PUSH_SA_ID" "$DEPLOYER_SA_ID"; do
    exists gcloud iam service-accounts describe "${id}@${PROJECT}.iam.gserviceaccount.com" --project "$PROJECT" ||
      run gcloud iam service-accounts create "$id" --project "$PROJECT" --display-name "workspace-sync ${id#ws-sync-}"
  done
  # Creating a secret is checked on the project, not on the secret, so it cannot be name-scoped by a
  # condition; a custom role keeps it to exactly that one permission.
  exists gcloud iam roles describe "$SECRET_CREATOR_ROLE" --project "$PROJECT" ||
    run gcloud iam roles create "$SECRET_CREATOR_ROLE" --project "$PROJECT" \
      --title "workspace-sync tenant secret creator" --permissions secretmanager.secrets.create --stage GA
}

project_binding() { # member role [condition]
  local args=(gcloud projects add-iam-policy-binding "$PROJECT" --member "$1" --role "$2")
  if [[ $# -ge 3 ]]; then args+=(--condition "$3"); else args+=(--condition None); fi
  run "${args[@]}" --quiet --format none
}

step_project_iam() {
  resolve_project_number
  local runtime="serviceAccount:${RUNTIME_SA}" deployer="serviceAccount:${DEPLOYER_SA}"
  local tenant_secrets="expression=resource.name.startsWith(\"projects/${PROJECT_NUMBER}/secrets/${SECRET_PREFIX}\"),title=workspace-sync tenant secrets"

  project_binding "$runtime" roles/datastore.user
  project_binding "$runtime" "projects/${PROJECT}/roles/${SECRET_CREATOR_ROLE}"
  local role
  for role in roles/secretmanager.secretAccessor roles/secretmanager.secretVersionAdder roles/secretmanager.secretVersionManager; do
    project_binding "$runtime" "$role" "$tenant_secrets"
  done

  for role in roles/cloudfunctions.developer roles/pubsub.editor roles/cloudscheduler.admin \
    roles/firebaserules.admin roles/datastore.indexAdmin roles/firebasehosting.admin; do
    project_binding "$deployer" "$role"
  done
  # Deploying functions that run as the runtime account, and configuring OIDC pushes as the push account,
  # both require acting as that account.
  local sa
  for sa in "$RUNTIME_SA" "$PUSH_SA"; do
    run gcloud iam service-accounts add-iam-policy-binding "$sa" --project "$PROJECT" \
      --member "$deployer" --role roles/iam.serviceAccountUser --quiet --format none
  done
  # The Pub/Sub service agent mints the OIDC tokens of authenticated pushes.
  run gcloud iam service-accounts add-iam-policy-binding "$PUSH_SA" --project "$PROJECT" \
    --member "serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com" \
    --role roles/iam.serviceAccountTokenCreator --quiet --format none
}

deploy_function() { # name extra-env extra-flags...
  local name="$1" extra_env="$2"
  shift 2
  run gcloud functions deploy "$name" --gen2 --runtime "$RUNTIME" --project "$PROJECT" --region "$REGION" \
    --source "$REPO_ROOT" --entry-point "$name" --service-account "$RUNTIME_SA" \
    --set-env-vars "GOOGLE_CLOUD_PROJECT=${PROJECT},WS_ENV=${ENV_NAME},NODE_ENV=production${extra_env}" "$@"
}

step_functions() {
  deploy_function tick "" --trigger-http --no-allow-unauthenticated --timeout "$TICK_TIMEOUT"
  deploy_function syncEntity "" --trigger-http --no-allow-unauthenticated --timeout "$SYNC_TIMEOUT" \
    --memory 512Mi --max-instances "$SYNC_MAX_INSTANCES"
  deploy_function deadLetter "" --trigger-http --no-allow-unauthenticated --timeout "$DEAD_LETTER_TIMEOUT"
  deploy_function deliverNotifications "" --trigger-http --no-allow-unauthenticated --timeout "$NOTIFY_TIMEOUT"
  # The console and both OAuth callbacks reach the api through Hosting (same origin), so its CORS origin and
  # redirect URIs are the hosting origin. Hosting invokes the function as an anonymous caller, hence public.
  local fn
  for fn in "${HTTP_FUNCTIONS[@]}"; do
    deploy_function "$fn" ",CONSOLE_ORIGIN=${CONSOLE_ORIGIN},OAUTH_REDIRECT_URI=${CONSOLE_ORIGIN}/oauth/callback" \
      --trigger-http --allow-unauthenticated --timeout "$HTTP_TIMEOUT"
  done
}

step_invokers() {
  local fn
  for fn in "${PUSH_FUNCTIONS[@]}"; do
    run gcloud functions add-invoker-policy-binding "$fn" --project "$PROJECT" --region "$REGION" \
      --member "serviceAccount:${PUSH_SA}"
  done
}

step_messaging() {
  # Topics, push subscriptions and scheduler jobs: computed from shared/topology.ts, diffed, applied.
  (cd "$REPO_ROOT" && run npx tsx infra/cli.ts apply --project "$PROJECT" --region "$REGION" \
    --functions-base-url "$FUNCTIONS_BASE_URL" --push-sa "$PUSH_SA" --env "$ENV_NAME")
}

step_resource_iam() {
  resolve_project_number
  local pubsub_agent="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
  local scheduler_agent="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-cloudscheduler.iam.gserviceaccount.com"
  run gcloud pubsub topics add-iam-policy-binding "$SYNC_TOPIC" --project "$PROJECT" \
    --member "serviceAccount:${RUNTIME_SA}" --role roles/pubsub.publisher
  # Sync runs emit notification events; the tick re-publishes stalled ones (functions/src/notifications).
  run gcloud pubsub topics add-iam-policy-binding "$NOTIFICATIONS_TOPIC" --project "$PROJECT" \
    --member "serviceAccount:${RUNTIME_SA}" --role roles/pubsub.publisher
  # The tick function publishes a tick's shards back on the tick topic (engine/fan-out.ts).
  run gcloud pubsub topics add-iam-policy-binding "$TICK_TOPIC" --project "$PROJECT" \
    --member "serviceAccount:${RUNTIME_SA}" --role roles/pubsub.publisher
  # Pub/Sub targets take no service account: Cloud Scheduler publishes as its service agent.
  run gcloud pubsub topics add-iam-policy-binding "$TICK_TOPIC" --project "$PROJECT" \
    --member "$scheduler_agent" --role roles/pubsub.publisher
  run gcloud pubsub topics add-iam-policy-binding "$DEAD_LETTER_TOPIC" --project "$PROJECT" \
    --member "$pubsub_agent" --role roles/pubsub.publisher
  local sub
  for sub in "${DEAD_LETTER_SOURCES[@]}"; do
    run gcloud pubsub subscriptions add-iam-policy-binding "$sub" --project "$PROJECT" \
      --member "$pubsub_agent" --role roles/pubsub.subscriber
  done
}

# The firebase.json deployed: the checked-in one with its hosting rewrites (/api/**, /oauth/** -> api) pointed at
# --region, so the console always reaches the api this script deployed (infra/hosting-config.ts; it refuses a
# rewrite to a function that is not deployed here). It sits next to firebase.json because firebase-tools
# resolves the paths in it from the config file's folder; hidden, so Hosting would not upload it.
DEPLOY_FIREBASE_JSON=.firebase-deploy.json

step_firebase() {
  # After the functions step: for a `function` rewrite, firebase-tools looks the deployed 2nd-gen function up and
  # points Hosting at its Cloud Run service.
  (
    cd "$REPO_ROOT"
    run npx tsx infra/hosting-config.ts --region "$REGION" --functions "$(IFS=,; echo "${HTTP_FUNCTIONS[*]}")" \
      --out "$DEPLOY_FIREBASE_JSON"
    run npx firebase deploy --config "$DEPLOY_FIREBASE_JSON" --only firestore:rules,firestore:indexes,hosting \
      --project "$PROJECT" --non-interactive
    run rm -f "$DEPLOY_FIREBASE_JSON"
  )
}

if [[ -n "$ONLY" ]]; then
  for step in ${ONLY//,/ }; do
    [[ " ${ALL_STEPS[*]} " == *" $step "* ]] || { echo "unknown step: $step" >&2; exit 2; }
  done
fi

for step in "${ALL_STEPS[@]}"; do
  wants "$step" || continue
  if [[ "$DRY_RUN" == 1 ]]; then echo "# step: $step"; fi
  "step_${step//-/_}"
done
