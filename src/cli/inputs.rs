//! What a command reads, loaded once before it runs: rule texts, schema, config.
//!
//! `main` turns the raw arguments into [`Sources`] (where to read from) and
//! loads them here into one [`Inputs`] value that every command shares, so
//! the loading steps and their errors are the same for `lint`, `eval` and
//! `tag-quantization`. A failure is a [`LoadFailure`]: `lint --format json`
//! prints it as a diagnostic, the other commands as an `error:` line.

use super::args::ConfigArgs;
use super::{Exit, Failure};
use crate::config::{
    Config, ConfigError, Place, QUANTIZATION_YAML, QUANTIZATION_YAML_NAME, QuantizationConfig,
};
use crate::diagnostic::Code;
use crate::rules::{
    LoadError, QUANTIZATION_RULE, QUANTIZATION_RULE_NAME, RuleSet, read_rule_files, rule_files,
};
use crate::schema::Schema;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a command's inputs come from, as the user gave them.
pub struct Sources<'a> {
    pub rules: Rules<'a>,
    /// `--schema FILE`; None for the built-in listing schema.
    pub schema: Option<&'a Path>,
    pub config: &'a ConfigArgs,
}

/// The rules a command runs.
pub enum Rules<'a> {
    /// Rule files and folders of them; the config is any YAML mapping.
    Files(&'a [PathBuf]),
    /// The built-in quantization rule; the config must be a quantization
    /// config (typed, so `--set` keeps its types).
    Quantization,
}

/// Everything a command reads, loaded and validated.
pub struct Inputs {
    /// The rule files read, in order (none for the built-in rule).
    pub files: Vec<PathBuf>,
    /// (name, text) of each rule source.
    pub texts: Vec<(String, String)>,
    pub schema: Arc<Schema>,
    pub config: Config,
}

impl Inputs {
    /// Read the rule files, the schema, then the config (in that order: the
    /// first failure is the one reported).
    pub fn load(sources: &Sources) -> Result<Inputs, Box<LoadFailure>> {
        match sources.rules {
            Rules::Files(paths) => {
                let files = rule_files(paths)?;
                let texts = read_rule_files(&files)?;
                let schema = load_schema(sources.schema)?;
                let config = load_config(sources.config)?;
                Ok(Inputs {
                    files,
                    texts,
                    schema,
                    config,
                })
            }
            Rules::Quantization => {
                let texts = vec![(
                    QUANTIZATION_RULE_NAME.to_string(),
                    QUANTIZATION_RULE.to_string(),
                )];
                let schema = load_schema(sources.schema)?;
                let config = load_quantization_config(sources.config)?;
                Ok(Inputs {
                    files: Vec::new(),
                    texts,
                    schema,
                    config,
                })
            }
        }
    }

    /// Parse, check and compile the rules against the schema and config.
    pub fn rule_set(&self) -> RuleSet {
        RuleSet::build(&self.texts, &self.schema, &self.config)
    }
}

/// An input that could not be loaded (rule paths, config, schema, `--set`):
/// the exit code, the line printed as `error: ...`, and what
/// `lint --format json` reports, a diagnostic with a place when there is one.
#[derive(Debug)]
pub struct LoadFailure {
    pub exit: Exit,
    pub code: Code,
    /// The file it is about; None for a `--set`.
    pub file: Option<String>,
    pub at: Option<Place>,
    /// A second place in the same file (where a duplicate key first is).
    pub first: Option<Place>,
    /// The message without the file's name.
    pub message: String,
    /// The whole line for people: file, place and message.
    pub text: String,
}

// Boxed where returned: it is large, and only made on the way out.
impl From<Box<LoadFailure>> for Failure {
    fn from(l: Box<LoadFailure>) -> Failure {
        Failure {
            message: l.text,
            rendered: None,
            exit: l.exit,
        }
    }
}

impl LoadFailure {
    fn config(e: ConfigError, exit: Exit, code: Code, file: Option<String>) -> Box<LoadFailure> {
        Box::new(LoadFailure {
            exit,
            code,
            file,
            at: e.at,
            first: e.first,
            text: e.to_string(),
            message: e.what.to_string(),
        })
    }

    /// A file that cannot be read, a folder without rules (exit 2).
    fn unreadable(file: String, text: String) -> Box<LoadFailure> {
        Box::new(LoadFailure {
            exit: Exit::CouldNotRun,
            code: Code::UnreadableInput,
            file: Some(file),
            at: None,
            first: None,
            message: text.clone(),
            text,
        })
    }
}

impl From<LoadError> for Box<LoadFailure> {
    fn from(e: LoadError) -> Box<LoadFailure> {
        let (file, at) = match &e {
            LoadError::Io { path, .. } | LoadError::NoRules { path } => (path.clone(), None),
            LoadError::NotUtf8 {
                path, line, column, ..
            } => {
                let (line, column) = (*line as u32, *column as u32);
                let at = Place {
                    line,
                    column,
                    end_line: line,
                    end_column: column,
                };
                (path.clone(), Some(at))
            }
        };
        let mut failure = LoadFailure::unreadable(file, e.to_string());
        failure.at = at;
        failure
    }
}

/// The config rules read: `--config FILE` (any mapping) or the built-in
/// quantization config, then each `--set`.
fn load_config(args: &ConfigArgs) -> Result<Config, Box<LoadFailure>> {
    let bad = |e: ConfigError| {
        let file = Some(e.file.clone());
        LoadFailure::config(e, Exit::Problems, Code::BadConfig, file)
    };
    let config = match &args.config {
        Some(path) => {
            let text = read_input(path)?;
            Config::from_yaml(&path.display().to_string(), &text).map_err(bad)?
        }
        None => QuantizationConfig::from_yaml(QUANTIZATION_YAML_NAME, QUANTIZATION_YAML)
            .map_err(bad)?
            .to_config(),
    };
    apply_sets(config, &args.set)
}

/// The typed quantization config: `--config FILE` must be one, then `--set`.
fn load_quantization_config(args: &ConfigArgs) -> Result<Config, Box<LoadFailure>> {
    let config = match &args.config {
        Some(path) => {
            let name = path.display().to_string();
            let text = read_input(path)?;
            let bad = |e: ConfigError| {
                LoadFailure::config(e, Exit::Problems, Code::BadConfig, Some(name.clone()))
            };
            let file = Config::from_yaml(&name, &text).map_err(bad)?;
            let typed = QuantizationConfig::from_config(&file).map_err(bad)?;
            // The typed values, but the user's file for places (W404 and
            // friends point into it, not into the built-in one).
            Config {
                root: typed.to_config().root,
                from_user: true,
                ..file
            }
        }
        None => QuantizationConfig::default().to_config(),
    };
    apply_sets(config, &args.set)
}

/// Each `--set key=value`, in order (a bad one is a bad argument: exit 2).
fn apply_sets(mut config: Config, sets: &[String]) -> Result<Config, Box<LoadFailure>> {
    for s in sets {
        config
            .set(s)
            .map_err(|e| LoadFailure::config(e, Exit::CouldNotRun, Code::BadArgument, None))?;
    }
    Ok(config)
}

fn load_schema(path: Option<&Path>) -> Result<Arc<Schema>, Box<LoadFailure>> {
    match path {
        None => Ok(Schema::listing()),
        Some(p) => {
            let text = read_input(p)?;
            let name = p.display().to_string();
            if let Some((message, at)) = crate::config::yaml_too_deep(&text) {
                return Err(Box::new(LoadFailure {
                    exit: Exit::Problems,
                    code: Code::BadSchema,
                    text: format!("{name}:{}:{}: {message}", at.line, at.column),
                    at: Some(at),
                    first: None,
                    file: Some(name),
                    message,
                }));
            }
            Schema::from_yaml(&name, &text).map(Arc::new).map_err(|e| {
                Box::new(LoadFailure {
                    exit: Exit::Problems,
                    code: Code::BadSchema,
                    text: e.to_string(),
                    at: e.at,
                    first: None,
                    file: Some(e.file),
                    message: e.what.to_string(),
                })
            })
        }
    }
}

/// A config or schema file's text (exit 2 when it cannot be read).
fn read_input(path: &Path) -> Result<String, Box<LoadFailure>> {
    let name = path.display().to_string();
    std::fs::read_to_string(path)
        .map_err(|e| LoadFailure::unreadable(name.clone(), format!("cannot read {name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::ConfigArgs;

    /// The quantization config from a user's file is built in one step: the
    /// typed values (the file's keys over the built-in ones), with the user's
    /// file as the place W404 and other diagnostics point into.
    #[test]
    fn a_quantization_config_file_is_typed_and_keeps_its_own_places() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("q.yaml");
        let text = "# mine\nmin_vram_gb: 16\n";
        std::fs::write(&path, text).expect("write the config");
        let config_args = ConfigArgs {
            config: Some(path.clone()),
            set: Vec::new(),
        };
        let inputs = Inputs::load(&Sources {
            rules: Rules::Quantization,
            schema: None,
            config: &config_args,
        })
        .unwrap_or_else(|f| panic!("loads: {}", f.text));
        let config = inputs.config;
        let built_in = QuantizationConfig::default().to_config();
        assert_eq!(config.name, path.display().to_string());
        assert_eq!(config.text.as_deref(), Some(text));
        assert!(config.from_user);
        assert_eq!(config.keys["min_vram_gb"].place.line, 2);
        assert_ne!(config.get(&["min_vram_gb"]), built_in.get(&["min_vram_gb"]));
        // A key the file leaves out comes from the built-in config.
        assert_eq!(
            config.get(&["max_tdp_watts"]),
            built_in.get(&["max_tdp_watts"])
        );
        assert_eq!(inputs.texts.len(), 1);
        assert!(inputs.files.is_empty());
    }

    /// Rule paths that cannot be read fail the same way for every command
    /// (they are loaded here once): E601, exit 2, naming the path.
    #[test]
    fn an_unreadable_rule_path_is_one_load_failure_for_every_command() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let missing = [dir.path().join("missing.rule")];
        let config_args = ConfigArgs {
            config: None,
            set: Vec::new(),
        };
        let Err(f) = Inputs::load(&Sources {
            rules: Rules::Files(&missing),
            schema: None,
            config: &config_args,
        }) else {
            panic!("a missing rule file loads");
        };
        assert_eq!(f.exit, Exit::CouldNotRun);
        assert_eq!(f.exit.code(), 2);
        assert_eq!(f.code, Code::UnreadableInput);
        assert!(f.text.contains("missing.rule"), "{}", f.text);
    }
}
