//! What every store the platform does not run shares, whatever its kind
//! (S3, GCS, Azure Blob): one access for every consumer but the backups,
//! which reach their own bucket; the Secret of the keys mlk was given;
//! and the store's port at addresses no selector names.

use super::super::access::StoreAccess;
use super::super::naming::Naming;
use super::super::network_policy::Peer;
use super::super::secret::SecretObject;
use super::{Consumer, Network, ObjectStore, Objects};

pub struct Elsewhere {
    pub access: StoreAccess,
    /// The same access, on the backups' bucket.
    pub backup: StoreAccess,
    pub secret: Option<SecretObject>,
    pub port: u16,
}

impl ObjectStore for Elsewhere {
    fn access(&self, who: Consumer) -> StoreAccess {
        match who {
            Consumer::Backup => self.backup.clone(),
            _ => self.access.clone(),
        }
    }

    fn secrets(&self) -> Vec<SecretObject> {
        self.secret.iter().cloned().collect()
    }

    /// Anywhere: no selector names an address outside the cluster; and
    /// the node's metadata server, where the credentials come from there.
    fn network(&self, _: &Naming) -> Network {
        Network {
            peer: Peer::Anywhere,
            port: self.port,
            groups: Vec::new(),
            paths: Vec::new(),
            identity: self.access.metadata_servers(),
        }
    }

    fn objects(self: Box<Self>) -> Objects {
        Objects::default()
    }
}
