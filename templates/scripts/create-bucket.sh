# Creates the artifact bucket if it is missing and makes sure it allows no
# anonymous access. Safe to run any number of times.
# The credentials are read from the mounted Secret files with shell
# built-ins and handed to `mc alias set` on stdin, which it reads when they
# are left off its command line: they are never in any process's argv or
# environment.
set -eu
IFS= read -r user < "$MINIO_ROOT_USER_FILE" || [ -n "$user" ]
IFS= read -r password < "$MINIO_ROOT_PASSWORD_FILE" || [ -n "$password" ]
mc="mc --config-dir $MC_CONFIG_DIR"
printf '%s\n%s\n' "$user" "$password" | $mc alias set platform "$S3_ENDPOINT"
$mc mb --ignore-existing "platform/$BUCKET"
$mc anonymous set none "platform/$BUCKET"
# The database's dumps, in a bucket of their own.
if [ -n "${BACKUP_BUCKET:-}" ]; then
    $mc mb --ignore-existing "platform/$BACKUP_BUCKET"
    $mc anonymous set none "platform/$BACKUP_BUCKET"
fi
# With versioning: a replaced or deleted artifact stays as a noncurrent
# version until the lifecycle rule expires it.
if [ -n "${VERSIONING_LIFECYCLE:-}" ]; then
    $mc version enable "platform/$BUCKET"
    printf '%s' "$VERSIONING_LIFECYCLE" | $mc ilm rule import "platform/$BUCKET"
fi
