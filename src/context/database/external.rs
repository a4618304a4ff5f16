//! A PostgreSQL the platform does not run: its address, the password in a
//! Secret of mlk's (or the user's), and the CA libpq verifies it with.

use super::super::access::DbAccess;
use super::super::naming::Naming;
use super::super::network_policy::Peer;
use super::super::objectstore;
use super::super::secret::{SecretBinder, SecretObject};
use super::{Database, Dump, Network, Objects, ca, clients_to};
use crate::resolve::ExternalDatabase;
use crate::spec::NetworkPolicy;

pub struct External {
    access: DbAccess,
    secret: Option<SecretObject>,
    port: u16,
}

impl External {
    pub fn new(n: &Naming, plan: &ExternalDatabase) -> Self {
        let ExternalDatabase {
            host,
            port,
            database,
            user,
            ssl_mode,
            ssl_root_cert,
            password,
        } = plan;
        let mut secret = SecretBinder::new(n.object("db"));
        let password = secret.bind("password", password);
        let ca = ssl_root_cert.as_ref().map(|(kind, k)| ca::mount(kind, k));
        let mut uri = super::uri(
            user.as_str(),
            host.as_str(),
            *port,
            database.as_str(),
            ssl_mode.map(|m| m.as_str()),
        );
        if ca.is_some() {
            let sep = if uri.contains('?') { '&' } else { '?' };
            uri.push_str(&format!("{sep}sslrootcert={}", ca::FILE));
        }
        External {
            access: DbAccess { uri, password, ca },
            secret: secret.finish(),
            port: *port,
        }
    }
}

impl Database for External {
    fn access(&self) -> &DbAccess {
        &self.access
    }

    fn secrets(&self) -> Vec<SecretObject> {
        self.secret.iter().cloned().collect()
    }

    fn dump(&self) -> Option<Dump<'_>> {
        None
    }

    /// Anywhere: no selector names an address outside the cluster.
    fn network(
        &self,
        _: &Naming,
        _: &NetworkPolicy,
        clients: &[Peer],
        _: &objectstore::Network,
    ) -> Network {
        Network {
            groups: Vec::new(),
            paths: clients_to(clients, &Peer::Anywhere, self.port),
        }
    }

    fn objects(self: Box<Self>) -> Objects {
        Objects::default()
    }
}
