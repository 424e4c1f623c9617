//! Config: the YAML mapping that rules read as `cfg.<path>`, and the typed
//! DTO of the quantization heuristic's thresholds.

use crate::diagnostic::nearest;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The shipped `resources/quantization_heuristic.yaml`, embedded.
pub const QUANTIZATION_YAML: &str = include_str!("../resources/quantization_heuristic.yaml");
pub const QUANTIZATION_YAML_NAME: &str = "resources/quantization_heuristic.yaml";

/// A config value as rules see it.
#[derive(Debug, Clone, PartialEq)]
pub enum CfgValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Map(Vec<(String, CfgValue)>),
    /// A YAML value rules cannot read (a list, null): named by its kind.
    Unsupported(&'static str),
}

impl CfgValue {
    fn kind(&self) -> &'static str {
        match self {
            CfgValue::Bool(_) => "a bool",
            CfgValue::Int(_) => "an int",
            CfgValue::Float(_) => "a float",
            CfgValue::Str(_) => "a string",
            CfgValue::Map(_) => "a mapping",
            CfgValue::Unsupported(k) => k,
        }
    }

    fn from_yaml(v: &serde_yaml::Value) -> CfgValue {
        use serde_yaml::Value as Y;
        match v {
            Y::Bool(b) => CfgValue::Bool(*b),
            Y::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => CfgValue::Int(i),
                (None, Some(f)) if f.is_finite() => CfgValue::Float(f),
                // .nan and .inf: no rule could compare with them sensibly.
                _ => CfgValue::Unsupported("a non-finite number"),
            },
            Y::String(s) => CfgValue::Str(s.clone()),
            Y::Mapping(m) => CfgValue::Map(
                m.iter()
                    .map(|(k, v)| (key_text(k), CfgValue::from_yaml(v)))
                    .collect(),
            ),
            Y::Tagged(t) => CfgValue::from_yaml(&t.value),
            Y::Null => CfgValue::Unsupported("null"),
            Y::Sequence(_) => CfgValue::Unsupported("a list"),
        }
    }

    fn to_yaml(&self) -> serde_yaml::Value {
        use serde_yaml::Value as Y;
        match self {
            CfgValue::Bool(b) => Y::Bool(*b),
            CfgValue::Int(i) => Y::Number((*i).into()),
            CfgValue::Float(f) => Y::Number((*f).into()),
            CfgValue::Str(s) => Y::String(s.clone()),
            CfgValue::Map(m) => Y::Mapping(
                m.iter()
                    .map(|(k, v)| (Y::String(k.clone()), v.to_yaml()))
                    .collect(),
            ),
            CfgValue::Unsupported(_) => Y::Null,
        }
    }

    /// Parse `text` as a value of the same kind as `self` (for `--set`).
    fn parse_like(&self, text: &str) -> Option<CfgValue> {
        let t = text.trim();
        Some(match self {
            CfgValue::Bool(_) => CfgValue::Bool(parse_bool(t)?),
            // An int key takes a decimal too: ints widen to floats in rules.
            CfgValue::Int(_) => match t.parse() {
                Ok(i) => CfgValue::Int(i),
                Err(_) => CfgValue::Float(t.parse::<f64>().ok().filter(|f| f.is_finite())?),
            },
            CfgValue::Float(_) => CfgValue::Float(t.parse::<f64>().ok().filter(|f| f.is_finite())?),
            CfgValue::Str(_) => CfgValue::Str(text.to_string()),
            CfgValue::Map(_) | CfgValue::Unsupported(_) => return None,
        })
    }
}

fn key_text(k: &serde_yaml::Value) -> String {
    match k {
        serde_yaml::Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    }
}

/// Bool text as configs and cells write it: true/false/yes/no/1/0, any case.
pub fn parse_bool(t: &str) -> Option<bool> {
    match t.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

impl fmt::Display for CfgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CfgValue::Bool(b) => write!(f, "{b}"),
            CfgValue::Int(i) => write!(f, "{i}"),
            CfgValue::Float(x) => write!(f, "{x}"),
            CfgValue::Str(s) => write!(f, "{s:?}"),
            CfgValue::Map(_) => f.write_str("a mapping"),
            CfgValue::Unsupported(k) => f.write_str(k),
        }
    }
}

/// A config error, naming the file and the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

/// The mapping rules read as `cfg`, with the text it came from (so lint can
/// point at an unused key).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub name: String,
    pub text: Option<Arc<str>>,
    pub root: Vec<(String, CfgValue)>,
    /// Read from a file the user named: lint warns about keys no rule reads.
    /// The built-in config serves the whole shipped rule set, so linting a
    /// part of it does not warn.
    pub from_user: bool,
}

impl Config {
    /// An empty config: rules that read `cfg.` get "unknown cfg key".
    pub fn empty() -> Config {
        Config {
            name: "<no config>".into(),
            text: None,
            root: Vec::new(),
            from_user: false,
        }
    }

    /// Any YAML mapping, typed by its values (for rule sets of your own).
    pub fn from_yaml(name: &str, text: &str) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError {
            file: name.to_string(),
            message,
        };
        let mut value: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| err(e.to_string()))?;
        // `<<: *anchor` merge keys, as YAML 1.1 readers apply them.
        value.apply_merge().map_err(|e| err(e.to_string()))?;
        let root = match CfgValue::from_yaml(&value) {
            CfgValue::Map(m) => m,
            CfgValue::Unsupported("null") => Vec::new(),
            other => {
                return Err(err(format!(
                    "expected a mapping of keys to values, found {}",
                    other.kind()
                )));
            }
        };
        Ok(Config {
            name: name.to_string(),
            text: Some(text.into()),
            root,
            from_user: true,
        })
    }

    /// The value at a dotted path.
    pub fn get(&self, path: &[&str]) -> Option<&CfgValue> {
        let (first, rest) = path.split_first()?;
        let mut v = lookup(&self.root, first)?;
        for seg in rest {
            match v {
                CfgValue::Map(m) => v = lookup(m, seg)?,
                _ => return None,
            }
        }
        Some(v)
    }

    /// The keys one level under `path` (for "did you mean").
    pub fn keys_at(&self, path: &[&str]) -> Vec<&str> {
        let map = if path.is_empty() {
            Some(&self.root)
        } else {
            match self.get(path) {
                Some(CfgValue::Map(m)) => Some(m),
                _ => None,
            }
        };
        map.map(|m| m.iter().map(|(k, _)| k.as_str()).collect())
            .unwrap_or_default()
    }

    /// Every leaf key, as dotted paths, in file order.
    pub fn leaf_paths(&self) -> Vec<String> {
        fn walk(prefix: &str, m: &[(String, CfgValue)], out: &mut Vec<String>) {
            for (k, v) in m {
                let path = join_key(prefix, k);
                match v {
                    CfgValue::Map(inner) => walk(&path, inner, out),
                    _ => out.push(path),
                }
            }
        }
        let mut out = Vec::new();
        walk("", &self.root, &mut out);
        out
    }

    /// Apply `--set key=value`: the key must exist, the value is parsed as
    /// the key's type.
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let err = |message: String| ConfigError {
            file: "--set".to_string(),
            message,
        };
        let (key, value) = assignment
            .split_once('=')
            .ok_or_else(|| err(format!("`{assignment}` is not of the form key=value")))?;
        if let Some(rest) = key.trim().strip_prefix("cfg.") {
            return Err(err(format!(
                "`--set` takes the key without `cfg.`: `--set {rest}={value}`"
            )));
        }
        let path: Vec<&str> = key.trim().split('.').collect();
        let mut map = &mut self.root;
        for (i, seg) in path.iter().enumerate() {
            let Some(pos) = map.iter().position(|(k, _)| k == seg) else {
                let at = path[..i].join(".");
                let hint = nearest(seg, map.iter().map(|(k, _)| k.as_str()))
                    .map(|n| format!(" (did you mean `{}`?)", join_key(&at, n)))
                    .unwrap_or_default();
                return Err(err(format!("unknown config key `{key}`{hint}")));
            };
            let slot = &mut map[pos].1;
            if i + 1 == path.len() {
                let new = slot.parse_like(value).ok_or_else(|| {
                    err(format!(
                        "config key `{key}` expects {}, found `{value}`",
                        slot.kind()
                    ))
                })?;
                *slot = new;
                return Ok(());
            }
            match slot {
                CfgValue::Map(inner) => map = inner,
                other => {
                    return Err(err(format!(
                        "config key `{}` is {}, not a mapping",
                        path[..=i].join("."),
                        other.kind()
                    )));
                }
            }
        }
        Err(err("empty config key".to_string()))
    }

    /// Byte range of a dotted key in the config text, if it can be found
    /// (block-style YAML: each segment on its own line, deeper indented).
    pub fn locate(&self, path: &str) -> Option<(usize, usize)> {
        let text = self.text.as_deref()?;
        let mut from = 0;
        let mut min_indent = 0;
        let segs: Vec<&str> = path.split('.').collect();
        let mut found = None;
        for seg in &segs {
            let mut offset = from;
            let mut hit = None;
            for line in text[from..].split_inclusive('\n') {
                let trimmed = line.trim_start_matches(' ');
                let indent = line.len() - trimmed.len();
                let is_content = !trimmed.trim().is_empty() && !trimmed.starts_with('#');
                if is_content && indent < min_indent {
                    break;
                }
                let key = trimmed
                    .strip_prefix(seg)
                    .filter(|r| r.trim_start().starts_with(':'));
                if key.is_some() && indent >= min_indent {
                    hit = Some((offset + indent, offset + indent + seg.len(), indent));
                    break;
                }
                offset += line.len();
            }
            let (s, e, indent) = hit?;
            found = Some((s, e));
            from = text[e..].find('\n').map_or(text.len(), |n| e + n + 1);
            min_indent = indent + 1;
        }
        found
    }
}

fn lookup<'a>(m: &'a [(String, CfgValue)], key: &str) -> Option<&'a CfgValue> {
    m.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The quantization heuristic's thresholds: the typed view of
/// `resources/quantization_heuristic.yaml`. Unknown keys are rejected, a
/// missing key keeps its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuantizationConfig {
    /// Least VRAM in GB.
    pub min_vram_gb: f64,
    /// Most board power in watts.
    pub max_tdp_watts: f64,
    /// Whether MIG support is required.
    pub require_mig: bool,
    /// VRAM in GB kept back before models are counted.
    pub overhead_gb: f64,
    /// 4-bit weights of one model, in GB.
    pub model_gb: ModelSizes,
}

/// Sizes of 4-bit quantized models, in GB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSizes {
    #[serde(rename = "7b")]
    pub b7: f64,
    #[serde(rename = "13b")]
    pub b13: f64,
    #[serde(rename = "70b")]
    pub b70: f64,
}

impl Default for QuantizationConfig {
    fn default() -> Self {
        QuantizationConfig {
            min_vram_gb: 24.0,
            max_tdp_watts: 300.0,
            require_mig: true,
            overhead_gb: 2.0,
            model_gb: ModelSizes::default(),
        }
    }
}

impl Default for ModelSizes {
    fn default() -> Self {
        ModelSizes {
            b7: 3.5,
            b13: 6.5,
            b70: 35.0,
        }
    }
}

impl QuantizationConfig {
    /// Parse and validate a quantization config file: every key must be one
    /// of the DTO's, with a value of its type.
    pub fn from_yaml(name: &str, text: &str) -> Result<QuantizationConfig, ConfigError> {
        let file = Config::from_yaml(name, text)?;
        let mut base = QuantizationConfig::default().to_config();
        merge_typed(&mut base.root, &file.root, "").map_err(|message| ConfigError {
            file: name.to_string(),
            message,
        })?;
        base.to_dto(name)
    }

    /// The config rules see; `--set` applies to it with the DTO's types.
    pub fn to_config(&self) -> Config {
        let value = serde_yaml::to_value(self).unwrap_or(serde_yaml::Value::Null);
        let root = match CfgValue::from_yaml(&value) {
            CfgValue::Map(m) => m,
            _ => Vec::new(),
        };
        Config {
            name: QUANTIZATION_YAML_NAME.to_string(),
            text: Some(QUANTIZATION_YAML.into()),
            root,
            from_user: false,
        }
    }
}

impl Config {
    /// Read this config back as the quantization DTO.
    pub fn to_dto(&self, name: &str) -> Result<QuantizationConfig, ConfigError> {
        serde_yaml::from_value(CfgValue::Map(self.root.clone()).to_yaml()).map_err(|e| {
            ConfigError {
                file: name.to_string(),
                message: e.to_string(),
            }
        })
    }
}

/// Overlay `over` on `base`, rejecting keys `base` lacks and values of
/// another kind (an int is accepted where a float is expected).
fn merge_typed(
    base: &mut [(String, CfgValue)],
    over: &[(String, CfgValue)],
    prefix: &str,
) -> Result<(), String> {
    for (k, v) in over {
        let path = join_key(prefix, k);
        let Some(pos) = base.iter().position(|(bk, _)| bk == k) else {
            let known: Vec<&str> = base.iter().map(|(k, _)| k.as_str()).collect();
            let hint = nearest(k, known.iter().copied())
                .map(|n| format!(" (did you mean `{}`?)", join_key(prefix, n)))
                .unwrap_or_default();
            return Err(format!(
                "unknown key `{path}`{hint}; known keys: {}",
                known.join(", ")
            ));
        };
        let slot = &mut base[pos].1;
        match (&mut *slot, v) {
            (CfgValue::Map(inner), CfgValue::Map(over_inner)) => {
                merge_typed(inner, over_inner, &path)?
            }
            (CfgValue::Float(_), CfgValue::Int(i)) => *slot = CfgValue::Float(*i as f64),
            (s, v) if std::mem::discriminant(s) == std::mem::discriminant(v) => *slot = v.clone(),
            (s, v) => {
                return Err(format!(
                    "key `{path}` expects {}, found {} ({v})",
                    s.kind(),
                    v.kind()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_yaml_equals_the_documented_defaults() {
        let c = QuantizationConfig::from_yaml("q.yaml", QUANTIZATION_YAML).unwrap();
        assert_eq!(c, QuantizationConfig::default());
        let literal = QuantizationConfig {
            min_vram_gb: 32.0,
            ..QuantizationConfig::default()
        };
        assert_eq!(
            literal.to_config().get(&["min_vram_gb"]),
            Some(&CfgValue::Float(32.0))
        );
    }

    #[test]
    fn unknown_key_names_the_near_key() {
        let e = QuantizationConfig::from_yaml("q.yaml", "min_vram: 24\n").unwrap_err();
        assert_eq!(e.file, "q.yaml");
        assert!(
            e.message
                .starts_with("unknown key `min_vram` (did you mean `min_vram_gb`?)"),
            "{e}"
        );
        let e = QuantizationConfig::from_yaml("q.yaml", "model_gb:\n  7B: 3\n").unwrap_err();
        assert!(
            e.message
                .contains("`model_gb.7B` (did you mean `model_gb.7b`?)"),
            "{e}"
        );
    }

    #[test]
    fn wrong_type_names_key_expected_and_found() {
        let e = QuantizationConfig::from_yaml("q.yaml", "require_mig: maybe\n").unwrap_err();
        assert_eq!(
            e.message,
            "key `require_mig` expects a bool, found a string (\"maybe\")"
        );
        let c = QuantizationConfig::from_yaml("q.yaml", "max_tdp_watts: 250\n").unwrap();
        assert_eq!(c.max_tdp_watts, 250.0);
        assert!(c.require_mig);
    }

    #[test]
    fn set_parses_as_the_keys_type() {
        let mut c = QuantizationConfig::default().to_config();
        c.set("min_vram_gb=32").unwrap();
        c.set("model_gb.70b = 40").unwrap();
        c.set("require_mig=no").unwrap();
        let dto = c.to_dto("x").unwrap();
        assert_eq!(
            (dto.min_vram_gb, dto.model_gb.b70, dto.require_mig),
            (32.0, 40.0, false)
        );
        let e = c.set("require_mig=perhaps").unwrap_err();
        assert_eq!(
            e.message,
            "config key `require_mig` expects a bool, found `perhaps`"
        );
        let e = c.set("min_vram=3").unwrap_err();
        assert_eq!(
            e.message,
            "unknown config key `min_vram` (did you mean `min_vram_gb`?)"
        );
        assert!(c.set("model_gb.7b.x=1").is_err());
        assert!(c.set("nothing").is_err());
    }

    #[test]
    fn generic_config_types_come_from_values() {
        let c = Config::from_yaml("c.yaml", "a: 1\nb:\n  c: 2.5\n  d: hi\n").unwrap();
        assert_eq!(c.get(&["a"]), Some(&CfgValue::Int(1)));
        assert_eq!(c.get(&["b", "c"]), Some(&CfgValue::Float(2.5)));
        assert_eq!(c.leaf_paths(), ["a", "b.c", "b.d"]);
        assert!(Config::from_yaml("c.yaml", "- 1\n").is_err());
        assert!(
            Config::from_yaml("c.yaml", "a: [1\n")
                .unwrap_err()
                .to_string()
                .starts_with("c.yaml: ")
        );
    }

    #[test]
    fn locate_finds_nested_keys() {
        let c = QuantizationConfig::default().to_config();
        let text = c.text.clone().unwrap();
        let (s, e) = c.locate("model_gb.70b").unwrap();
        assert_eq!(&text[s..e], "70b");
        let (s, _) = c.locate("overhead_gb").unwrap();
        assert!(text[s..].starts_with("overhead_gb: 2"));
    }
}
