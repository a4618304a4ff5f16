//! `mlk --version`: the release, the commit it was built from, and what
//! a render holds unless a spec says otherwise: the pinned images, and
//! the KServe API its InferenceServices are written for.

use crate::spec::{CNPG_IMAGE, MC_IMAGE, MINIO_IMAGE, POSTGRES_IMAGE, SEAWEEDFS_IMAGE};

const COMMIT: &str = env!("MLK_BUILD_COMMIT");

/// `mlk -V`: one line.
pub fn short() -> &'static str {
    leak(format!("{} ({COMMIT})", env!("CARGO_PKG_VERSION")))
}

/// `mlk --version`: the line, and the pins.
pub fn long() -> &'static str {
    let pins = [
        ("MLflow", crate::mlflow::IMAGE),
        ("PostgreSQL", POSTGRES_IMAGE),
        ("CloudNativePG", CNPG_IMAGE),
        ("SeaweedFS", SEAWEEDFS_IMAGE),
        ("MinIO", MINIO_IMAGE),
        ("MinIO client", MC_IMAGE),
        (
            "KServe",
            "serving.kserve.io/v1beta1, 0.16 or later (Standard and Knative modes)",
        ),
    ];
    let mut text = format!("{}\nrenders by default:", short());
    for (what, pin) in pins {
        text.push_str(&format!("\n  {what:<14}{pin}"));
    }
    leak(text)
}

/// clap keeps a version as a `&'static str`; it is made once a run.
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}
