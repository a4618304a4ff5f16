//! A container of the user's beside mlk's own in a pod: a Cloud SQL Auth
//! Proxy, a service-mesh proxy, a log shipper. `startsBeforeInit` makes
//! it a native sidecar: an init container with `restartPolicy: Always`,
//! which starts before the pod's init steps (the migration among them)
//! and runs as long as the pod does. Kubernetes starts the next init
//! container once the sidecar's startupProbe passes (beta and on by
//! default since 1.29, GA in 1.33), and stops it when a Job's container
//! ends.

use k8s_openapi::api::core::v1::Container;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::types::Strict;

const STARTS_BEFORE_INIT: &str = "startsBeforeInit";

#[derive(Debug, Clone, PartialEq)]
pub struct ExtraContainer {
    /// As the Pod API takes it; every field is checked (`Strict`).
    pub container: Container,
    /// Run it as a native sidecar, before the init steps.
    pub starts_before_init: bool,
}

impl<'de> Deserialize<'de> for ExtraContainer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut input = serde_json::Value::deserialize(d)?;
        let flag = input
            .as_object_mut()
            .and_then(|m| m.remove(STARTS_BEFORE_INIT));
        let starts_before_init = match flag {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Bool(b)) => b,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "{STARTS_BEFORE_INIT}: expected true or false, got {other}"
                )));
            }
        };
        let Strict(container) =
            Strict::<Container>::deserialize(input).map_err(D::Error::custom)?;
        Ok(ExtraContainer {
            container,
            starts_before_init,
        })
    }
}

impl JsonSchema for ExtraContainer {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ExtraContainer".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // A Container as the Pod API takes it, and the flag.
        let container = generator.subschema_for::<Container>();
        schemars::json_schema!({
            "allOf": [container],
            "properties": {
                STARTS_BEFORE_INIT: {
                    "type": "boolean",
                    "description": "Run as a native sidecar (an init container with \
                                    restartPolicy: Always), before the pod's init steps"
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<ExtraContainer, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn the_flag_is_taken_out_and_the_rest_is_a_container() {
        let c = parse("{name: proxy, image: p:1, startsBeforeInit: true}").unwrap();
        assert!(c.starts_before_init);
        assert_eq!(c.container.name, "proxy");
        assert!(
            !parse("{name: proxy, image: p:1}")
                .unwrap()
                .starts_before_init
        );
    }

    #[test]
    fn a_misspelt_field_or_a_flag_that_is_not_a_boolean_is_refused() {
        assert!(parse("{name: p, image: p:1, startsBeforeInit: yes-please}").is_err());
        let e = parse("{name: p, image: p:1, startBeforeInit: true}").unwrap_err();
        assert!(e.contains("startBeforeInit"), "{e}");
    }
}
