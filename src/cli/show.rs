//! `glyphsieve config`: the settings in effect, as YAML annotated with the layer of each value.
//!
//! Like `git config --show-origin`, each value says where it comes from
//! (`# from built-in`, `# from glyphsieve.yaml:3`, `# from --set`). The
//! output has the shape of a project file, so it is valid YAML a user can
//! copy from, in part or whole, to start a `glyphsieve.yaml` of their own.

use super::{Exit, Failure, Inputs, print_stdout};
use crate::config::{CfgValue, Config, ConfigLayer, SET_LAYER};
use crate::schema::{LayerField, Schema, SchemaLayer};
use std::fmt::Write;

/// Print the effective settings on stdout.
pub fn show(inputs: Inputs) -> Result<Exit, Failure> {
    print_stdout(&render(&inputs))?;
    Ok(Exit::Ok)
}

/// The effective settings as annotated YAML.
pub fn render(inputs: &Inputs) -> String {
    let mut out = String::new();
    // Layer names, lowest first: the files in the order they were laid
    // (each once), `--set` last.
    let mut layers = vec!["built-in".to_string()];
    let names = inputs.config.layers.iter().skip(1).map(|l| &l.name);
    for name in names.chain(inputs.schema_layers.iter().map(|l| &l.name)) {
        if name != SET_LAYER && !layers.contains(name) {
            layers.push(name.clone());
        }
    }
    if inputs.config.layers.iter().any(|l| l.name == SET_LAYER) {
        layers.push(SET_LAYER.to_string());
    }
    let _ = writeln!(
        out,
        "# Settings in effect; layers, lowest first: {}.\n\
         # Each value names the layer it comes from. This is a valid glyphsieve.yaml.",
        layers.join(", ")
    );
    if let Some(p) = inputs
        .project
        .as_ref()
        .filter(|p| !p.rules_written.is_empty())
    {
        let paths: Vec<String> = p.rules_written.iter().map(|r| quote(r)).collect();
        let at = p.rules_line.map(|l| format!(":{l}")).unwrap_or_default();
        let _ = writeln!(out, "rules: [{}]  # from {}{at}", paths.join(", "), p.name);
    }
    out.push_str("config:");
    if inputs.config.root.is_empty() {
        out.push_str(" {}");
    }
    out.push('\n');
    config_map(&mut out, &inputs.config, &inputs.config.root, "", 1);
    out.push_str("schema:\n  fields:\n");
    schema_fields(&mut out, &inputs.schema, &inputs.schema_layers);
    out
}

/// One mapping of the config, indented `depth` levels, each leaf annotated.
fn config_map(
    out: &mut String,
    config: &Config,
    m: &[(String, CfgValue)],
    prefix: &str,
    depth: usize,
) {
    let indent = "  ".repeat(depth);
    for (k, v) in m {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            CfgValue::Map(inner) if !inner.is_empty() => {
                let _ = writeln!(out, "{indent}{}:", key(k));
                config_map(out, config, inner, &path, depth + 1);
            }
            v => {
                let _ = writeln!(
                    out,
                    "{indent}{}: {}  # from {}",
                    key(k),
                    value(v),
                    config_origin(config, &path)
                );
            }
        }
    }
}

/// `built-in`, `--set`, or a file and the line of the key.
fn config_origin(config: &Config, path: &str) -> String {
    let Some(o) = config.origins.get(path) else {
        return "built-in".to_string();
    };
    match (o.set_by, config.origin(path)) {
        (0, _) | (_, None) => "built-in".to_string(),
        (_, Some((ConfigLayer { name, .. }, _))) if name == SET_LAYER => SET_LAYER.to_string(),
        (_, Some((layer, key))) => match key {
            Some(k) => format!("{}:{}", layer.name, k.place.line),
            None => layer.name.clone(),
        },
    }
}

/// Each field of the effective schema, in flow style, with its layer.
fn schema_fields(out: &mut String, schema: &Schema, layers: &[SchemaLayer]) {
    let built_in = Schema::listing_layer();
    for f in &schema.fields {
        // The highest layer that declares it, or the built-in schema.
        let found = layers.iter().rev().find_map(|l| {
            let field = l.fields.iter().find(|x| x.def.name == f.name)?;
            let at = field.line.map(|n| format!(":{n}")).unwrap_or_default();
            Some((field, format!("{}{at}", l.name)))
        });
        let (field, origin) = match found {
            Some(x) => x,
            None => match built_in.fields.iter().find(|x| x.def.name == f.name) {
                Some(field) => (field, "built-in".to_string()),
                None => continue,
            },
        };
        let _ = writeln!(
            out,
            "    {}: {}  # from {origin}",
            key(&f.name),
            field_yaml(field)
        );
    }
}

fn field_yaml(f: &LayerField) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|i| quote(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{{type: {}, columns: [{}], nulls: [{}]}}",
        type_name(f.def.ty),
        list(&f.def.columns),
        list(&f.nulls)
    )
}

/// A field type as schema files write it.
fn type_name(ty: crate::schema::FieldType) -> &'static str {
    use crate::schema::FieldType;
    match ty {
        FieldType::Bool => "bool",
        FieldType::Int => "int",
        FieldType::Float => "float",
        FieldType::String => "string",
    }
}

/// A key as YAML reads it back to the same text: plain when it is a word
/// YAML takes as a string (or a number, which config paths write alike).
fn key(k: &str) -> String {
    let word = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !k.starts_with('-');
    let special = matches!(
        k.to_ascii_lowercase().as_str(),
        "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
    );
    if word && !special {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A value as YAML: floats keep a `.0` so they read back as floats.
fn value(v: &CfgValue) -> String {
    match v {
        CfgValue::Bool(b) => b.to_string(),
        CfgValue::Int(i) => i.to_string(),
        CfgValue::Float(f) => format!("{f:?}"),
        CfgValue::Str(s) => quote(s),
        CfgValue::Map(_) => "{}".to_string(),
        CfgValue::Unsupported(_) => "null".to_string(),
    }
}

/// A double-quoted YAML string (JSON's escapes are YAML's).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}
