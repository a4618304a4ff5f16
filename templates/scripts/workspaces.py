# The spec's workspaces, set up by the migration step under its advisory
# lock: mlk puts this file before db-upgrade.py when the spec lists any,
# and the list comes in MLK_WORKSPACES (JSON), never in argv.
import json
import os


def set_up_workspaces(uri, auth):
    """Each workspace created, or its description set again. None is ever
    deleted here: that would move or drop a team's experiments. Under a
    login app (`auth` is its store's URI, schema and app), who may use
    each."""
    from mlflow.entities.workspace import Workspace
    from mlflow.store.workspace.sqlalchemy_store import SqlAlchemyStore

    workspaces = json.loads(os.environ["MLK_WORKSPACES"])
    store = SqlAlchemyStore(uri)
    have = {w.name for w in store.list_workspaces()}
    for w in workspaces:
        if w["name"] not in have:
            store.create_workspace(Workspace(name=w["name"], description=w["description"]))
        elif w["description"] is not None:
            store.update_workspace(Workspace(name=w["name"], description=w["description"]))
        print(f"workspace {w['name']} is ready", flush=True)
    app = auth[2] if len(auth) > 2 else None
    if app == "basic-auth":
        from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore as Users

        users = Users()
        users.init_db(auth[0])
        seed_roles(users, [w["name"] for w in workspaces])
    if app == "oidc-auth":
        from mlflow_oidc_auth.sqlalchemy_store import SqlAlchemyStore as Grants

        grants = Grants()
        grants.init_db(auth[0])
        grant_groups(grants, workspaces)


def seed_roles(store, names):
    """MLflow's auth app seeds a workspace's `admin` (MANAGE) and `user`
    (USE) roles when its API creates one; a workspace made here gets the
    same, so an admin has roles to assign users to. `default` has none."""
    seeds = [("admin", "MANAGE", "Full MANAGE authority over the workspace."),
             ("user", "USE", "Read every resource in the workspace and create new ones.")]
    for name in names:
        if name == "default":
            continue
        have = {r.name for r in store.list_roles([name])}
        for role, permission, description in seeds:
            if role not in have:
                r = store.create_role(name=role, workspace=name, description=description)
                store.add_role_permission(r.id, "workspace", "*", permission)


def grant_groups(store, workspaces):
    """The OIDC plugin's group grants on the spec's workspaces are the
    spec's: each created or updated, and any other group's revoked."""
    for w in workspaces:
        want = w["groups"]
        store.populate_groups(list(want), written_by="mlk")
        for grant in store.list_workspace_group_permissions(w["name"]):
            if grant.group_name not in want:
                store.delete_workspace_group_permission(w["name"], grant.group_name)
                print(f"workspace {w['name']}: group {grant.group_name} revoked", flush=True)
        for group, permission in want.items():
            try:
                store.get_workspace_group_permission(w["name"], group)
                store.update_workspace_group_permission(w["name"], group, permission)
            except Exception:
                store.create_workspace_group_permission(w["name"], group, permission)
            print(f"workspace {w['name']}: group {group} may {permission}", flush=True)
