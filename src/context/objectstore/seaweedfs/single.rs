//! One process, `weed mini`: master, volume server, filer and S3 gateway
//! on one volume, for dev and prod. Its parts reach each other on the
//! pod's loopback; only the S3 port is served.

use k8s_openapi::api::apps::v1::StatefulSetSpec;
use k8s_openapi::api::core::v1::VolumeMount;

use super::super::super::naming::Naming;
use super::super::super::network_policy::Group;
use super::super::super::security;
use super::super::super::subtree::Subtree;
use super::super::super::workload::build::{self, Mounted};
use super::{
    DATA, FILER_PORT, MASTER_PORT, S3_PORT, SERVER, Servers, UID, VOLUME_PORT, gateway_flags, home,
    match_labels, port, probe, s3_service, weed,
};
use crate::spec::EmbeddedArtifacts;

pub fn build(n: &Naming, spec: &EmbeddedArtifacts, config: &Mounted) -> Servers {
    let name = n.name(SERVER);
    let selector = n.selector(SERVER);
    let labels = n.labels(SERVER);
    let [s3_port, s3_config, iceberg, lance] = gateway_flags("-s3.");
    let (command, args) = weed(
        [
            "mini".to_owned(),
            format!("-dir={DATA}"),
            // Its parts find each other on loopback; the S3 gateway is
            // served on every address.
            "-ip=127.0.0.1".into(),
            "-ip.bind=0.0.0.0".into(),
            format!("-master.port={MASTER_PORT}"),
            format!("-volume.port={VOLUME_PORT}"),
            format!("-filer.port={FILER_PORT}"),
            s3_port,
            s3_config,
            "-admin.ui=false".into(),
            "-webdav=false".into(),
            iceberg,
            lance,
            "-master.telemetry=false".into(),
        ]
        .to_vec(),
    );
    let mut c = build::container(
        "seaweedfs",
        &spec.server_image().to_string(),
        &spec.resources,
    );
    c.command = Some(command);
    c.args = Some(args);
    c.env = Some(vec![home()]);
    c.ports = Some(vec![port("s3", S3_PORT), port("master", MASTER_PORT)]);
    // A first start waits for the volume server and the filer; the S3
    // gateway answers once it can reach both.
    c.startup_probe = Some(probe("/cluster/healthz", "master", 5, 60));
    c.readiness_probe = Some(probe("/healthz", "s3", 5, 3));
    c.liveness_probe = Some(probe("/cluster/healthz", "master", 10, 6));
    if let Some(mounts) = &mut c.volume_mounts {
        mounts.push(VolumeMount {
            name: "data".into(),
            mount_path: DATA.into(),
            ..VolumeMount::default()
        });
        mounts.push(config.mount.clone());
    }
    let template =
        n.pods(&spec.pods)
            .template(&labels, &Default::default(), None, security::pod(UID));
    let set = StatefulSetSpec {
        service_name: Some(name.clone()),
        replicas: Some(1),
        selector: match_labels(&selector),
        template: build::pod(&template, vec![c], vec![config.volume.clone()]),
        volume_claim_templates: Some(vec![build::claim(&selector, &spec.storage)]),
        ..StatefulSetSpec::default()
    };
    let entry = Group {
        name: "seaweedfs".into(),
        pods: selector.clone(),
    };
    let mut servers = Servers {
        groups: vec![entry.clone()],
        entry,
        ..Servers::default()
    };
    servers.add(
        (&name, &labels),
        &s3_service(&selector),
        ("StatefulSet", Subtree::new(&set)),
        None,
    );
    servers
}
