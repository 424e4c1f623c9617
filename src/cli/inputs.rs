//! What a command reads, loaded once before it runs: rule texts, schema, config.
//!
//! `main` turns the raw arguments into [`Sources`] (where to read from) and
//! loads them here into one [`Inputs`] value that every command shares, so
//! the loading steps and their errors are the same for `lint`, `eval` and
//! `tag-quantization`. A failure is a [`LoadFailure`]: `lint --format json`
//! prints it as a diagnostic, the other commands as an `error:` line.

use super::args::ConfigArgs;
use super::project::{self, Project, ProjectError};
use super::{Exit, Failure};
use crate::config::{Config, ConfigError, Place, QuantizationConfig};
use crate::diagnostic::Code;
use crate::rules::{
    LoadError, QUANTIZATION_RULE, QUANTIZATION_RULE_NAME, RuleSet, read_rule_files, rule_files,
};
use crate::schema::{Schema, SchemaError, SchemaLayer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a command's inputs come from, as the user gave them. The settings
/// (`config`: `--config`, `--schema`, `--set`, `--no-project`) are laid
/// over the built-in defaults and the project file here, in [`Inputs::load`],
/// so every command that flattens [`ConfigArgs`] layers them the same way.
pub struct Sources<'a> {
    pub rules: Rules<'a>,
    pub config: &'a ConfigArgs,
}

/// The rules a command runs.
pub enum Rules<'a> {
    /// Rule files and folders of them; none: the project file's `rules:`.
    Files(&'a [PathBuf]),
    /// The built-in quantization rule.
    Quantization,
    /// No rules (`glyphsieve config`): only the settings.
    Settings,
}

/// Everything a command reads, loaded and validated.
pub struct Inputs {
    /// The rule files read, in order (none for the built-in rule).
    pub files: Vec<PathBuf>,
    /// (name, text) of each rule source.
    pub texts: Vec<(String, String)>,
    pub schema: Arc<Schema>,
    pub config: Config,
    /// The schema layers laid over the built-in schema, lowest first.
    pub schema_layers: Vec<SchemaLayer>,
    /// The project file used, if any.
    pub project: Option<Project>,
}

impl Inputs {
    /// Read the project file, the rule files, the schema, then the config
    /// (in that order: the first failure is the one reported).
    pub fn load(sources: &Sources) -> Result<Inputs, Box<LoadFailure>> {
        let args = sources.config;
        let project = load_project(args)?;
        // The project's config is the rules' own when they are the project's.
        let (files, texts, warn_project, warn_user) = match sources.rules {
            Rules::Files(paths) => {
                let (paths, from_project) = match (paths.is_empty(), &project) {
                    (false, _) => (paths, false),
                    (true, Some(p)) if !p.rules.is_empty() => (p.rules.as_slice(), true),
                    (true, _) => return Err(no_rules(project.as_ref())),
                };
                let files = rule_files(paths)?;
                let texts = read_rule_files(&files)?;
                (files, texts, from_project, true)
            }
            Rules::Quantization => {
                let texts = vec![(
                    QUANTIZATION_RULE_NAME.to_string(),
                    QUANTIZATION_RULE.to_string(),
                )];
                (Vec::new(), texts, false, true)
            }
            Rules::Settings => (Vec::new(), Vec::new(), false, false),
        };
        let (schema, schema_layers) = load_schema(&args.schema, project.as_ref())?;
        let config = load_config(args, project.as_ref(), warn_project, warn_user)?;
        Ok(Inputs {
            files,
            texts,
            schema,
            config,
            schema_layers,
            project,
        })
    }

    /// Parse, check and compile the rules against the schema and config.
    pub fn rule_set(&self) -> RuleSet {
        RuleSet::build(&self.texts, &self.schema, &self.config)
    }
}

/// No RULES on the command line, and no project file that lists them.
fn no_rules(project: Option<&Project>) -> Box<LoadFailure> {
    let text = match project {
        Some(p) => format!(
            "no rules given: name rule files or folders on the command line, or list \
             them under `rules:` in {} (e.g. `rules: [rules/]`)",
            p.name
        ),
        None => format!(
            "no rules given: name rule files or folders on the command line, or list \
             them under `rules:` in a {} project file (e.g. `rules: [rules/]`)",
            project::PROJECT_FILE
        ),
    };
    Box::new(LoadFailure {
        exit: Exit::CouldNotRun,
        code: Code::BadArgument,
        file: None,
        at: None,
        first: None,
        message: text.clone(),
        text,
    })
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

    fn schema(e: SchemaError) -> Box<LoadFailure> {
        Box::new(LoadFailure {
            exit: Exit::Problems,
            code: Code::BadSchema,
            text: e.to_string(),
            at: e.at,
            first: None,
            file: Some(e.file),
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

/// The project file: the nearest `glyphsieve.yaml` from the current
/// folder up, unless `--no-project` or `GLYPHSIEVE_NO_PROJECT` says not to.
fn load_project(args: &ConfigArgs) -> Result<Option<Project>, Box<LoadFailure>> {
    if args.no_project || project::disabled_by_env() {
        return Ok(None);
    }
    let Some((path, name)) = std::env::current_dir()
        .ok()
        .and_then(|dir| project::find(&dir))
    else {
        return Ok(None);
    };
    let text = read_named(&path, &name)?;
    Project::from_yaml(&name, &text)
        .map(Some)
        .map_err(|e| match e {
            ProjectError::Config(e) => {
                let file = Some(e.file.clone());
                LoadFailure::config(e, Exit::Problems, Code::BadConfig, file)
            }
            ProjectError::Schema(e) => LoadFailure::schema(e),
        })
}

/// The config rules read, in layers: the built-in quantization config, the
/// project file's `config:`, each `--config FILE` in order, each `--set`.
/// `warn_project` and `warn_user`: whether lint warns about keys that the
/// project file, and the command line's layers, add and no rule reads.
fn load_config(
    args: &ConfigArgs,
    project: Option<&Project>,
    warn_project: bool,
    warn_user: bool,
) -> Result<Config, Box<LoadFailure>> {
    let bad = |e: ConfigError| {
        let file = Some(e.file.clone());
        LoadFailure::config(e, Exit::Problems, Code::BadConfig, file)
    };
    let mut config = QuantizationConfig::default().to_config();
    let mut over = |mut layer: Config, warn: bool| {
        for l in &mut layer.layers {
            l.from_user = warn;
        }
        config.overlay(layer).map_err(bad)
    };
    if let Some(c) = project.and_then(|p| p.config.clone()) {
        over(c, warn_project)?;
    }
    for path in &args.config {
        let name = path.display().to_string();
        let text = read_input(path)?;
        over(Config::from_yaml(&name, &text).map_err(bad)?, warn_user)?;
    }
    // Each `--set key=value`, in order (a bad one is a bad argument: exit 2).
    for s in &args.set {
        config
            .set(s)
            .map_err(|e| LoadFailure::config(e, Exit::CouldNotRun, Code::BadArgument, None))?;
    }
    if let Some(l) = config
        .layers
        .last_mut()
        .filter(|l| l.name == crate::config::SET_LAYER)
    {
        l.from_user = warn_user;
    }
    Ok(config)
}

/// The schema, in layers: the built-in listing schema, the project file's
/// `schema:`, each `--schema FILE` in order, field by field.
fn load_schema(
    paths: &[PathBuf],
    project: Option<&Project>,
) -> Result<(Arc<Schema>, Vec<SchemaLayer>), Box<LoadFailure>> {
    let mut layers: Vec<SchemaLayer> = project.and_then(|p| p.schema.clone()).into_iter().collect();
    for p in paths {
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
        layers.push(SchemaLayer::from_yaml(&name, &text).map_err(LoadFailure::schema)?);
    }
    if layers.is_empty() {
        return Ok((Schema::listing(), layers));
    }
    let mut schema = (*Schema::listing()).clone();
    for l in &layers {
        schema.overlay(l);
    }
    Ok((Arc::new(schema), layers))
}

/// A config or schema file's text (exit 2 when it cannot be read).
fn read_input(path: &Path) -> Result<String, Box<LoadFailure>> {
    read_named(path, &path.display().to_string())
}

/// A file's text; `name` is how messages call it.
fn read_named(path: &Path, name: &str) -> Result<String, Box<LoadFailure>> {
    let name = name.to_string();
    std::fs::read_to_string(path)
        .map_err(|e| LoadFailure::unreadable(name.clone(), format!("cannot read {name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::ConfigArgs;

    fn args(config: Vec<PathBuf>, set: &[&str]) -> ConfigArgs {
        ConfigArgs {
            config,
            set: set.iter().map(|s| s.to_string()).collect(),
            schema: Vec::new(),
            no_project: true,
        }
    }

    /// A partial config file is a layer over the built-in one: its keys
    /// override (typed as the built-in ones), the rest stay, and its keys
    /// keep their places in its own file (W404 and friends point there).
    #[test]
    fn a_partial_config_file_is_a_layer_that_keeps_its_own_places() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("q.yaml");
        let text = "# mine\nmin_vram_gb: 16\nmax_price_per_gb: 30\n";
        std::fs::write(&path, text).expect("write the config");
        let config_args = args(vec![path.clone()], &["max_price_per_gb=25"]);
        let inputs = Inputs::load(&Sources {
            rules: Rules::Quantization,
            config: &config_args,
        })
        .unwrap_or_else(|f| panic!("loads: {}", f.text));
        let config = inputs.config;
        let built_in = QuantizationConfig::default().to_config();
        let (layer, key) = config.origin("min_vram_gb").expect("an origin");
        assert_eq!(layer.name, path.display().to_string());
        assert_eq!(layer.text.as_deref(), Some(text));
        assert_eq!(key.map(|k| k.place.line), Some(2));
        assert_eq!(
            config.get(&["min_vram_gb"]),
            Some(&crate::config::CfgValue::Float(16.0))
        );
        // A key the file leaves out comes from the built-in config.
        assert_eq!(
            config.get(&["max_tdp_watts"]),
            built_in.get(&["max_tdp_watts"])
        );
        let (layer, _) = config.origin("max_price_per_gb").expect("an origin");
        assert_eq!(layer.name, "--set");
        assert_eq!(
            config.get(&["max_price_per_gb"]),
            Some(&crate::config::CfgValue::Int(25))
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
        let config_args = args(Vec::new(), &[]);
        let Err(f) = Inputs::load(&Sources {
            rules: Rules::Files(&missing),
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
