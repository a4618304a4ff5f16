//! Each part of the platform mlk renders, with what identifies it: the
//! suffix of its objects' names and the labels that select its pods.
//! Everything that names or selects a component asks here, so a selector
//! and what it selects cannot drift. Ports belong to what serves them
//! (`tracking::PORT`, `database::PORT`, each object store's own).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The MLflow tracking server and model registry.
    Tracking,
    /// The tracking server's garbage-collection CronJob.
    Gc,
    /// The ServiceAccount and Secret the predictors share.
    Serving,
    /// An InferenceService.
    Model,
    /// An InferenceService's predictor pods.
    Predictor,
    /// A part of a store's own, which its provider names: the program, its
    /// role, and its objects' suffix.
    Part {
        app: &'static str,
        role: &'static str,
        suffix: &'static str,
    },
    /// PostgreSQL, embedded or run by CloudNativePG.
    Database,
    /// The embedded PostgreSQL's backup CronJob.
    Backup,
}

impl Component {
    /// `app.kubernetes.io/name`: the program the pods run.
    pub fn app(self) -> &'static str {
        match self {
            Component::Tracking
            | Component::Gc
            | Component::Serving
            | Component::Model
            | Component::Predictor => "mlflow",
            Component::Part { app, .. } => app,
            Component::Database | Component::Backup => "postgresql",
        }
    }

    /// `app.kubernetes.io/component`: its part in the platform.
    pub fn role(self) -> &'static str {
        match self {
            Component::Tracking => "tracking",
            Component::Gc => "gc",
            Component::Serving => "serving",
            Component::Model => "model",
            Component::Predictor => "predictor",
            Component::Part { role, .. } => role,
            Component::Database => "database",
            Component::Backup => "backup",
        }
    }

    /// What its objects' names end in, after the platform's name.
    pub fn suffix(self) -> &'static str {
        match self {
            Component::Tracking => "tracking",
            Component::Gc => "gc",
            Component::Serving | Component::Model | Component::Predictor => "predictor",
            Component::Part { suffix, .. } => suffix,
            Component::Database => "postgres",
            Component::Backup => "postgres-backup",
        }
    }
}
