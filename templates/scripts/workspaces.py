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
    (USE) roles when its API creates one (`_DEFAULT_WORKSPACE_ROLES` in
    mlflow/server/auth); a workspace made here gets the same, so an admin
    has roles to assign users to. `default` has none. A role left without
    its permission by an interrupted run gets it on the next."""
    seeds = [
        ("admin", "MANAGE", "Full MANAGE authority over the workspace."),
        ("user", "USE", "Read every resource in the workspace and create new experiments and "
         "registered models; the creator-as-owner mechanism grants MANAGE on what you create, "
         "with no write or delete access to resources owned by other users."),
    ]
    for name in names:
        if name == "default":
            continue
        have = {r.name: r for r in store.list_roles([name])}
        for role, permission, description in seeds:
            r = have.get(role) or store.create_role(name=role, workspace=name, description=description)
            if not any(p.resource_type == "workspace" for p in r.permissions or []):
                store.add_role_permission(r.id, "workspace", "*", permission)


def grant_groups(store, workspaces):
    """The OIDC plugin's group grants on a workspace that names groups in
    the spec are the spec's: each created or updated, and any other
    group's revoked. A workspace that names none is left as it is."""
    for w in workspaces:
        want = w["groups"]
        if not want:
            continue
        store.populate_groups(list(want))
        have = {g.group_name: g.permission for g in store.list_workspace_group_permissions(w["name"])}
        for group in have.keys() - want.keys():
            store.delete_workspace_group_permission(w["name"], group)
            print(f"workspace {w['name']}: group {group} revoked", flush=True)
        for group, permission in want.items():
            if group not in have:
                store.create_workspace_group_permission(w["name"], group, permission)
            elif have[group] != permission:
                store.update_workspace_group_permission(w["name"], group, permission)
            print(f"workspace {w['name']}: group {group} may {permission}", flush=True)
