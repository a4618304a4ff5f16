# Creates the artifact bucket if it is missing and makes sure it allows no
# anonymous access. Safe to run any number of times.
set -eu
mc="mc --config-dir /tmp/mc"
$mc alias set platform "$S3_ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
$mc mb --ignore-existing "platform/$BUCKET"
$mc anonymous set none "platform/$BUCKET"
