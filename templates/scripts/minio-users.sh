# A user of its own for each consumer, with only its policy: USERS holds a
# line `NAME POLICY-JSON` for each, and each one's secret key is the file
# USERS_DIR/user-NAME. `mc admin user add` reads the secret key from stdin
# when only the access key is given; it prints the access key (the user's
# name) and nothing else. Adding an existing user sets its key again, and
# creating a policy replaces it, and attaching one already attached is
# not an error (mc ignores XMinioAdminPolicyChangeAlreadyApplied:
# cmd/admin-policy-attach.go in the pinned release), so a re-run makes
# the users what the platform says.
printf '%s\n' "$USERS" | while read -r name policy; do
    $mc admin user add platform "$name" < "$USERS_DIR/user-$name" > /dev/null
    printf '%s' "$policy" > "$MC_CONFIG_DIR/policy-$name.json"
    $mc admin policy create platform "$name" "$MC_CONFIG_DIR/policy-$name.json"
    $mc admin policy attach platform "$name" --user "$name"
    echo "user $name: policy $name"
done
# The users of consumers the platform no longer runs.
for name in ${RETIRED_USERS:-}; do
    if $mc admin user info platform "$name" > /dev/null 2>&1; then
        $mc admin user remove platform "$name"
    fi
done
