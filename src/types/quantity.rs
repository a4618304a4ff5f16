use std::fmt;

/// A Kubernetes resource quantity (`500m`, `1.5Gi`, `2`, `1e3`), never
/// negative. It is kept as written, and compared by its numeric value.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    text: String,
    value: f64,
}

impl Quantity {
    pub fn parse(s: &str) -> Result<Quantity, String> {
        Ok(Quantity {
            value: Self::value_of(s)?,
            text: s.to_owned(),
        })
    }

    /// Whether `s` is a quantity, without keeping it.
    pub fn check(s: &str) -> Result<(), String> {
        Self::value_of(s).map(drop)
    }

    fn value_of(s: &str) -> Result<f64, String> {
        let bad = || {
            format!(
                "{s:?} is not a quantity: a number with an optional suffix \
                 (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3)"
            )
        };
        if s.starts_with('-') {
            return Err(format!(
                "{s:?} is negative; a quantity here must be 0 or more"
            ));
        }
        let body = s.strip_prefix('+').unwrap_or(s);
        let split = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (number, suffix) = body.split_at(split);
        let mantissa = parse_number(number).ok_or_else(bad)?;
        let scale = parse_suffix(suffix).ok_or_else(bad)?;
        Ok(mantissa * scale)
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn parse_number(n: &str) -> Option<f64> {
    let (int, frac) = n.split_once('.').unwrap_or((n, ""));
    if int.is_empty() && frac.is_empty() || frac.contains('.') {
        return None;
    }
    n.parse::<f64>()
        .ok()
        .or_else(|| format!("0{n}").parse().ok())
}

fn parse_suffix(s: &str) -> Option<f64> {
    let binary = |p: i32| Some(1024f64.powi(p));
    let decimal = |p: i32| Some(10f64.powi(p));
    match s {
        "" => decimal(0),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(1),
        "Mi" => binary(2),
        "Gi" => binary(3),
        "Ti" => binary(4),
        "Pi" => binary(5),
        "Ei" => binary(6),
        _ => {
            let exp = s.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            decimal(exp.parse().ok()?)
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl schemars::JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Kubernetes quantity: 500m, 2, 1.5Gi.",
            "type": ["string", "number"],
        })
    }
}

/// Accepts `500m` as well as the bare YAML numbers `2` and `0.5`.
impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
            Float(f64),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(s) => s,
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => f.to_string(),
        };
        Quantity::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kubernetes_forms() {
        for (s, v) in [
            ("500m", 0.5),
            ("1", 1.0),
            ("1.5Gi", 1.5 * 1024f64.powi(3)),
            ("2k", 2000.0),
            ("1e3", 1000.0),
            ("0.5", 0.5),
            (".5", 0.5),
        ] {
            assert_eq!(Quantity::parse(s).unwrap().value(), v, "{s}");
        }
    }

    #[test]
    fn refuses_malformed() {
        for s in [
            "", "1GB", "abc", "1..2", "-1Gi", "Gi", "1 Gi", "1e", "1.2.3",
        ] {
            assert!(Quantity::parse(s).is_err(), "{s:?} accepted");
        }
    }
}
