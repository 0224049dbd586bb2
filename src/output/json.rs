//! `--json FIELDS` and `--jq EXPR`, as `gh` has them: pick fields of the printed
//! objects, then filter the result through a jq expression (the `jaq` crates).
//!
//! The fields a command can print are read from its wire type's `Deserialize` impl
//! (the names serde expects, camelCase as the API spells them), so a field the server
//! leaves out when empty is still a field, and an unknown one is refused even when
//! the list is empty.

use serde::de::{DeserializeOwned, Visitor};
use serde_json::{Map, Value};

use crate::error::ClientError;

/// What `--json [FIELDS]` and `--jq EXPR` asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonOptions {
    /// Only these fields of each object (`--json id,title`); `None` for whole objects.
    pub fields: Option<Vec<String>>,
    /// A jq expression the JSON goes through before printing.
    pub jq: Option<String>,
}

impl JsonOptions {
    /// From the flags' values: `--json` alone gives `Some("")`; a bad jq expression
    /// is a usage error, before any request is sent.
    pub fn parse(fields: Option<&str>, jq: Option<&str>) -> Result<Self, ClientError> {
        let fields = fields
            .map(|list| {
                let mut picked: Vec<String> = Vec::new();
                for name in list.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                    if !picked.iter().any(|p| p == name) {
                        picked.push(name.to_owned());
                    }
                }
                picked
            })
            .filter(|picked| !picked.is_empty());
        if let Some(expr) = jq {
            Jq::compile(expr)?;
        }
        Ok(Self {
            fields,
            jq: jq.map(str::to_owned),
        })
    }

    /// `value` (an object or an array of objects) with the chosen fields, through
    /// `--jq`: pretty JSON, or one line per jq output. `known` lists the fields the
    /// type has; without it (a map, an enum) the value's own keys are the fields.
    pub fn render(
        &self,
        value: Value,
        known: Option<&[&str]>,
        pretty: bool,
    ) -> Result<String, ClientError> {
        let value = match &self.fields {
            Some(fields) => {
                check_fields(fields, known, &value)?;
                select(value, fields)
            }
            None => value,
        };
        match &self.jq {
            Some(expr) => Jq::compile(expr)?.run(value),
            None if pretty => Ok(format!(
                "{}\n",
                to_text(serde_json::to_string_pretty(&value))?
            )),
            None => Ok(format!("{}\n", to_text(serde_json::to_string(&value))?)),
        }
    }
}

fn to_text(text: serde_json::Result<String>) -> Result<String, ClientError> {
    Ok(text.map_err(anyhow::Error::from)?)
}

/// The fields a JSON object of type `T` has, as serde names them (`None` for a
/// type that is not a plain struct: a map, a flattened or an internally tagged one).
pub fn fields_of<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut fields = None;
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that only records the field names a struct asks for.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("only the field names were wanted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        enum identifier ignored_any
    }
}

/// Refuses a field the objects do not have, listing those they do (as `gh` does).
fn check_fields(
    fields: &[String],
    known: Option<&[&str]>,
    value: &Value,
) -> Result<(), ClientError> {
    let available: Vec<String> = match known {
        Some(known) => known.iter().map(|f| (*f).to_owned()).collect(),
        None => keys_of(value),
    };
    // Without a type and without objects (an empty list of a map type) nothing can
    // be checked; the selection then selects from nothing.
    if known.is_none() && available.is_empty() {
        return Ok(());
    }
    match fields.iter().find(|f| !available.contains(f)) {
        None => Ok(()),
        Some(unknown) => {
            let mut sorted = available;
            sorted.sort();
            let list: String = sorted.iter().map(|f| format!("\n  {f}")).collect();
            Err(ClientError::Usage(format!(
                "Unknown JSON field: {unknown:?}\nAvailable fields:{list}"
            )))
        }
    }
}

fn keys_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let objects: Vec<&Map<String, Value>> = match value {
        Value::Object(map) => vec![map],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    for map in objects {
        for key in map.keys() {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

/// Each object keeps just `fields`; one it lacks (left out when empty) is `null`.
fn select(value: Value, fields: &[String]) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(|v| select(v, fields)).collect()),
        Value::Object(mut map) => Value::Object(
            fields
                .iter()
                .map(|f| (f.clone(), map.remove(f).unwrap_or(Value::Null)))
                .collect(),
        ),
        other => other,
    }
}

/// A compiled jq expression.
struct Jq {
    filter: jaq_core::Filter<jaq_core::data::JustLut<jaq_json::Val>>,
}

impl Jq {
    /// Parses and compiles `expr` with jq's standard library; a problem is a usage
    /// error that says what was expected where.
    fn compile(expr: &str) -> Result<Self, ClientError> {
        use jaq_core::load::{Arena, File, Loader};
        let invalid = |why: String| ClientError::Usage(format!("invalid --jq expression: {why}"));
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(
                &arena,
                File {
                    code: expr,
                    path: (),
                },
            )
            .map_err(|errors| {
                invalid(
                    errors
                        .iter()
                        .map(|(_, e)| load_error(expr, e))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
        let filter = jaq_core::Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                invalid(
                    errors
                        .iter()
                        .flat_map(|(_, undefined)| undefined)
                        .map(|(name, what)| format!("undefined {} `{name}`", what.as_str()))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
        Ok(Self { filter })
    }

    /// Runs the filter on `value`: strings print raw, anything else as compact JSON,
    /// one output a line. An error while running is exit 1, not a usage error.
    fn run(&self, value: Value) -> Result<String, ClientError> {
        use jaq_core::{Ctx, Vars, data::JustLut, unwrap_valr};
        use jaq_json::Val;
        let bytes = serde_json::to_vec(&value).map_err(anyhow::Error::from)?;
        let input = jaq_json::read::parse_single(&bytes)
            .map_err(|e| anyhow::anyhow!("--jq: reading the JSON: {e}"))?;
        let ctx = Ctx::<JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut text = String::new();
        for output in self.filter.id.run((ctx, input)).map(unwrap_valr) {
            let output = output.map_err(|e| anyhow::anyhow!("--jq: {e}"))?;
            match output {
                Val::TStr(s) => text.push_str(&String::from_utf8_lossy(&s[..])),
                other => text.push_str(&other.to_string()),
            }
            text.push('\n');
        }
        Ok(text)
    }
}

/// "expected term at end of expression", "expected ) at `]`".
fn load_error(expr: &str, error: &jaq_core::load::Error<&str>) -> String {
    use jaq_core::load::Error;
    let at = |rest: &str| {
        let rest = rest.trim();
        if rest.is_empty() {
            "at the end of the expression".to_owned()
        } else {
            let shown: String = rest.chars().take(20).collect();
            let column = expr.len().saturating_sub(rest.len()) + 1;
            format!("at column {column} (`{shown}`)")
        }
    };
    let lines: Vec<String> = match error {
        Error::Io(problems) => problems
            .iter()
            .map(|(path, why)| format!("{path}: {why}"))
            .collect(),
        Error::Lex(problems) => problems
            .iter()
            .map(|(expected, rest)| format!("expected {} {}", expected.as_str(), at(rest)))
            .collect(),
        Error::Parse(problems) => problems
            .iter()
            .map(|(expected, rest)| format!("expected {} {}", expected.as_str(), at(rest)))
            .collect(),
    };
    lines.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Course {
        id: u32,
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        price_minor: Option<i64>,
    }

    fn options(fields: Option<&str>, jq: Option<&str>) -> JsonOptions {
        JsonOptions::parse(fields, jq).unwrap()
    }

    #[test]
    fn the_fields_of_a_wire_type_are_its_serde_names() {
        assert_eq!(
            fields_of::<Course>(),
            Some(&["id", "title", "priceMinor"][..])
        );
        assert_eq!(fields_of::<std::collections::HashMap<String, u8>>(), None);
    }

    #[test]
    fn picked_fields_keep_only_those_keys_and_a_missing_one_is_null() {
        let list = json!([{"id": 1, "title": "Rust", "level": "x"}, {"id": 2, "title": "Go"}]);
        let text = options(Some("title,priceMinor"), None)
            .render(list, fields_of::<Course>(), false)
            .unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back,
            json!([{"title": "Rust", "priceMinor": null}, {"title": "Go", "priceMinor": null}])
        );
    }

    #[test]
    fn an_unknown_field_is_a_usage_error_listing_the_available_ones() {
        let err = options(Some("id,nope"), None)
            .render(json!([]), fields_of::<Course>(), true)
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        assert_eq!(
            err.to_string(),
            "Unknown JSON field: \"nope\"\nAvailable fields:\n  id\n  priceMinor\n  title"
        );
    }

    #[test]
    fn bare_json_keeps_whole_objects() {
        assert_eq!(options(Some(""), None), JsonOptions::default());
    }

    #[test]
    fn jq_prints_strings_raw_and_other_values_as_compact_json() {
        let list = json!([{"id": 1, "title": "Rust"}, {"id": 2, "title": "Go"}]);
        let jq = options(None, Some(".[].title"));
        assert_eq!(jq.render(list.clone(), None, true).unwrap(), "Rust\nGo\n");
        let jq = options(None, Some("map(select(.id > 1))"));
        assert_eq!(
            jq.render(list, None, true).unwrap(),
            "[{\"id\":2,\"title\":\"Go\"}]\n"
        );
    }

    #[test]
    fn jq_runs_after_the_fields_are_picked() {
        let list = json!([{"id": 1, "title": "Rust"}]);
        let jq = options(Some("id"), Some(".[0] | keys"));
        assert_eq!(jq.render(list, None, true).unwrap(), "[\"id\"]\n");
    }

    #[test]
    fn a_jq_expression_that_does_not_parse_is_a_usage_error() {
        let err = JsonOptions::parse(None, Some(".[] | ")).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        assert!(
            err.to_string()
                .starts_with("invalid --jq expression: expected"),
            "{err}"
        );
        let err = JsonOptions::parse(None, Some("nosuchfilter")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid --jq expression: undefined filter `nosuchfilter`"
        );
    }

    #[test]
    fn a_jq_error_while_running_is_a_plain_error() {
        let err = options(None, Some(".[0].title + 1"))
            .render(json!([{"title": "Rust"}]), None, true)
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::ERROR);
    }
}
