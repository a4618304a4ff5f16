# The platform's own logins under the OIDC plugin, set up by the
# migration step: mlk puts this file before db-upgrade.py when the plugin
# runs and gc logs in.
import os


def oidc_logins(auth_uri, logins):
    """Under the OIDC plugin a login is a service account, and its
    password an access token (`mlf_PREFIX_SECRET`, from VAR): its one token
    named `mlk`, hashed as the plugin hashes its own and valid for the
    longest the plugin issues, set again on every start."""
    from datetime import datetime, timezone
    from mlflow_oidc_auth.db.models.user import SqlUser
    from mlflow_oidc_auth.db.models.user_token import SqlUserToken
    from mlflow_oidc_auth.repository.user_token import MAX_TOKEN_LIFETIME, TOKEN_HASH_METHOD
    from mlflow_oidc_auth.sqlalchemy_store import SqlAlchemyStore
    from werkzeug.security import generate_password_hash
    store = SqlAlchemyStore()
    store.init_db(auth_uri)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for login in logins:
        user, role, var = login.split(":")
        token, admin = os.environ[var], role == "admin"
        if store.has_user(user):
            store.update_user(user, is_admin=admin, is_service_account=True)
        else:
            store.create_user(user, user, is_admin=admin, is_service_account=True)
        # A service account logs in with basic auth only when it signs in
        # with the tokens issued to it ("internal").
        store.set_service_account_source(user, "internal")
        with store.ManagedSessionMaker(read_only=False) as session:
            owner = session.query(SqlUser).filter(SqlUser.username == user).one()
            # An admin switched it off: the plugin issues a deactivated
            # account no token, and neither does this step.
            if not owner.active:
                print(f"login {user} is deactivated: no token set", flush=True)
                continue
            session.query(SqlUserToken).filter(SqlUserToken.user_id == owner.id,
                                               SqlUserToken.name == "mlk").delete()
            session.add(SqlUserToken(
                user_id=owner.id, name="mlk", token_prefix=token.split("_")[1],
                token_hash=generate_password_hash(token, method=TOKEN_HASH_METHOD),
                created_at=now, created_by="mlk", expires_at=now + MAX_TOKEN_LIFETIME))
        print(f"login {user} ({role}) is ready", flush=True)
