//! The project file, `glyphsieve.yaml`: settings found in the current folder or a parent.
//!
//! Like `ruff.toml` or `Cargo.toml`, it is looked for in the current folder,
//! then in each parent up to the filesystem root; the nearest one is used.
//! It may hold a config layer (`config:`), schema fields (`schema:`, the
//! shape of a schema file) and the default rule paths (`rules:`, relative to
//! the file's folder):
//!
//! ```yaml
//! config: { max_price_per_gb: 30 }
//! schema: { fields: { mig_instances: { type: float, columns: [mig_capable] } } }
//! rules: [rules/]
//! ```

use crate::config::{CfgValue, Config, ConfigError, ConfigErrorKind, ConfigLayer, KeySpan};
use crate::diagnostic::nearest;
use crate::schema::{SchemaError, SchemaLayer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The project file's name.
pub const PROJECT_FILE: &str = "glyphsieve.yaml";

/// Set (to anything but an empty string) to ignore project files, as
/// `--no-project` does: for scripts and tests that must not depend on the
/// folder they run in.
pub const NO_PROJECT_ENV: &str = "GLYPHSIEVE_NO_PROJECT";

/// The keys a project file may have.
const KEYS: [&str; 3] = ["config", "schema", "rules"];

/// A project file, read.
#[derive(Debug, Clone)]
pub struct Project {
    /// Its path as messages show it: relative to the current folder
    /// (`glyphsieve.yaml`, `../glyphsieve.yaml`).
    pub name: String,
    /// Its `config:` mapping, as a config layer (places into the whole file).
    pub config: Option<Config>,
    /// Its `schema:` fields.
    pub schema: Option<SchemaLayer>,
    /// Its `rules:` paths, relative to the current folder.
    pub rules: Vec<PathBuf>,
    /// Its `rules:` paths as written, and the line of the key (for
    /// `glyphsieve config`).
    pub rules_written: Vec<String>,
    pub rules_line: Option<u32>,
}

/// Why a project file cannot be used.
#[derive(Debug)]
pub enum ProjectError {
    /// Not YAML, a bad key or value: located like a config error.
    Config(ConfigError),
    /// A bad `schema:` part.
    Schema(SchemaError),
}

/// The nearest project file: `dir`'s, or its parents' (up to the root).
/// Returns its path and its name relative to `dir`.
pub fn find(dir: &Path) -> Option<(PathBuf, String)> {
    let mut up = PathBuf::new();
    for folder in dir.ancestors() {
        let path = folder.join(PROJECT_FILE);
        if path.is_file() {
            return Some((path, up.join(PROJECT_FILE).display().to_string()));
        }
        up.push("..");
    }
    None
}

/// Whether `GLYPHSIEVE_NO_PROJECT` asks to ignore project files.
pub fn disabled_by_env() -> bool {
    std::env::var_os(NO_PROJECT_ENV).is_some_and(|v| !v.is_empty())
}

impl Project {
    /// Parse a project file's text. `name` is its path from the current
    /// folder; rule paths are taken relative to its folder.
    pub fn from_yaml(name: &str, text: &str) -> Result<Project, ProjectError> {
        let err = |what: ConfigErrorKind, at| {
            ProjectError::Config(ConfigError {
                at,
                ..ConfigError::new(name, what)
            })
        };
        // Read as a config: duplicate keys, numbers out of range, alias
        // bombs and deep nesting are rejected, and every key has its place.
        let whole = Config::from_yaml(name, text).map_err(ProjectError::Config)?;
        let layer = whole.layers.first().cloned();
        let keys: HashMap<String, KeySpan> =
            layer.as_ref().map(|l| l.keys.clone()).unwrap_or_default();
        let place = |path: &str| keys.get(path).map(|k| k.place);
        for (k, _) in &whole.root {
            if !KEYS.contains(&k.as_str()) {
                let what = ConfigErrorKind::UnknownKey {
                    key: k.clone(),
                    suggestion: nearest(k, KEYS).map(str::to_string),
                    known: KEYS.map(str::to_string).to_vec(),
                };
                return Err(err(what, place(k)));
            }
        }
        let value: serde_yaml::Value = serde_yaml::from_str(text)
            .map_err(|e| err(ConfigErrorKind::Yaml(e.to_string()), None))?;
        let config = match whole.get(&["config"]) {
            None | Some(CfgValue::Unsupported("null")) => None,
            Some(CfgValue::Map(m)) => {
                // The config part's keys, with their places in the whole file.
                let keys = keys
                    .iter()
                    .filter_map(|(p, k)| Some((p.strip_prefix("config.")?.to_string(), *k)))
                    .collect();
                let layer = ConfigLayer {
                    name: name.to_string(),
                    text: Some(text.into()),
                    from_user: true,
                    keys,
                };
                Some(Config::from_layer(layer, m.clone()))
            }
            Some(other) => {
                let what = ConfigErrorKind::Yaml(format!(
                    "`config` expects a mapping of keys to values, found {other}"
                ));
                return Err(err(what, place("config")));
            }
        };
        let schema = match value.get("schema") {
            None | Some(serde_yaml::Value::Null) => None,
            Some(v) => Some(
                SchemaLayer::from_value(name, v.clone(), &keys, "schema.")
                    .map_err(ProjectError::Schema)?,
            ),
        };
        let rules_written: Vec<String> = match value.get("rules") {
            None | Some(serde_yaml::Value::Null) => Vec::new(),
            Some(serde_yaml::Value::String(s)) => vec![s.clone()],
            Some(serde_yaml::Value::Sequence(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    err(
                        ConfigErrorKind::Yaml(
                            "`rules` expects paths of rule files or folders, e.g. `rules: [rules/]`"
                                .to_string(),
                        ),
                        place("rules"),
                    )
                })?,
            Some(_) => {
                let what = ConfigErrorKind::Yaml(
                    "`rules` expects paths of rule files or folders, e.g. `rules: [rules/]`"
                        .to_string(),
                );
                return Err(err(what, place("rules")));
            }
        };
        let dir = Path::new(name).parent().unwrap_or(Path::new(""));
        Ok(Project {
            name: name.to_string(),
            config,
            schema,
            rules: rules_written.iter().map(|r| dir.join(r)).collect(),
            rules_written,
            rules_line: place("rules").map(|p| p.line),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_file_holds_config_schema_and_rules() {
        let text = "config: { max_price_per_gb: 30 }\n\
                    schema: { fields: { mig_instances: { type: float, columns: [mig_capable] } } }\n\
                    rules: [rules/]\n";
        let p = Project::from_yaml("../glyphsieve.yaml", text).expect("loads");
        let config = p.config.expect("a config layer");
        assert_eq!(config.get(&["max_price_per_gb"]), Some(&CfgValue::Int(30)));
        let (layer, key) = config.origin("max_price_per_gb").expect("an origin");
        assert_eq!(layer.name, "../glyphsieve.yaml");
        assert_eq!(key.map(|k| (k.place.line, k.place.column)), Some((1, 11)));
        let schema = p.schema.expect("a schema layer");
        assert_eq!(schema.fields[0].def.columns, ["mig_capable"]);
        assert_eq!(schema.fields[0].line, Some(2));
        assert_eq!(p.rules, [PathBuf::from("../rules/")]);
        assert_eq!(p.rules_line, Some(3));
    }

    #[test]
    fn an_unknown_project_key_is_located_with_a_suggestion() {
        let Err(ProjectError::Config(e)) = Project::from_yaml("glyphsieve.yaml", "rule: [x]\n")
        else {
            panic!("loads");
        };
        assert!(
            e.to_string()
                .starts_with("glyphsieve.yaml:1:1: unknown key `rule` (did you mean `rules`?)"),
            "{e}"
        );
        let Err(ProjectError::Config(e)) = Project::from_yaml("glyphsieve.yaml", "rules: 3\n")
        else {
            panic!("loads");
        };
        assert!(e.to_string().contains("`rules` expects paths"), "{e}");
    }
}
