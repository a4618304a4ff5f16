//! Stage 4b: lays the context out as YAML text through the embedded
//! templates. Every interpolated value is JSON-escaped (a JSON string is a
//! YAML double-quoted scalar), and an undefined name is an error.

use minijinja::{
    AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior, Value,
};

use crate::context::Context;

/// Each component's template, in the order its objects are applied.
pub const COMPONENTS: [(&str, &str); 10] = [
    ("namespace", include_str!("../templates/namespace.yaml.j2")),
    (
        "network-policy",
        include_str!("../templates/network-policy.yaml.j2"),
    ),
    ("postgres", include_str!("../templates/postgres.yaml.j2")),
    (
        "cloudnativepg",
        include_str!("../templates/cloudnativepg.yaml.j2"),
    ),
    ("minio", include_str!("../templates/minio.yaml.j2")),
    ("tracking", include_str!("../templates/tracking.yaml.j2")),
    ("ingress", include_str!("../templates/ingress.yaml.j2")),
    ("gateway", include_str!("../templates/gateway.yaml.j2")),
    (
        "monitoring",
        include_str!("../templates/monitoring.yaml.j2"),
    ),
    ("serving", include_str!("../templates/serving.yaml.j2")),
];

const MACROS: (&str, &str) = (
    "_macros.yaml.j2",
    include_str!("../templates/_macros.yaml.j2"),
);

pub struct Rendered {
    pub component: &'static str,
    pub text: String,
}

pub fn render(ctx: &Context) -> anyhow::Result<Vec<Rendered>> {
    let env = environment(ctx)?;
    COMPONENTS
        .iter()
        .map(|(component, _)| {
            let text = env
                .get_template(component)?
                .render(Value::from_serialize(ctx))
                // Plain Display: the alternate form lists the template's
                // variables, Secret data among them.
                .map_err(|e| anyhow::anyhow!("internal error: template {component}: {e}"))?;
            Ok(Rendered { component, text })
        })
        .collect()
}

/// Writes every value as JSON, which YAML reads as a double-quoted scalar
/// or flow collection. JSON leaves NEL, LS and PS raw, but YAML reads
/// those as line breaks and folds them, so they are escaped as well.
fn yaml_safe_json(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if value.is_safe() || state.auto_escape() == AutoEscape::None {
        return minijinja::escape_formatter(out, state, value);
    }
    let json = serde_json::to_string(value)
        .map_err(|e| Error::new(ErrorKind::BadSerialization, e.to_string()))?;
    for c in json.chars() {
        match c {
            '\u{85}' | '\u{2028}' | '\u{2029}' => write!(out, "\\u{:04x}", c as u32),
            c => write!(out, "{c}"),
        }
        .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))?;
    }
    Ok(())
}

fn environment(ctx: &Context) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Json);
    env.set_formatter(yaml_safe_json);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_template(MACROS.0, MACROS.1)?;
    for (name, source) in COMPONENTS {
        env.add_template(name, source)?;
    }
    // Imported macros see globals only, not the caller's context.
    env.add_global("namespace", Value::from_serialize(&ctx.namespace));
    env.add_global("annotations", Value::from_serialize(&ctx.annotations));
    env.add_global("secret_store", Value::from_serialize(&ctx.secret_store));
    Ok(env)
}
