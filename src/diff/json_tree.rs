//! A structural diff of two JSON trees, reported as changes at JSON paths.
//!
//! Objects are compared key by key; arrays of scalars are compared as sets (order-insensitive);
//! in other arrays, elements equal to one on the other side are paired first wherever they are
//! (a reordered list of line items is the same list), and the rest index by index. Numbers are
//! equal within a relative tolerance.

use serde_json::Value;

/// What changed at one path, going from `a` (production) to `b` (candidate).
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// Present in `a`, absent in `b`.
    Missing,
    /// Absent in `a`, present in `b`.
    Added,
    /// Different JSON types (e.g. number → string).
    TypeChanged {
        from: &'static str,
        to: &'static str,
    },
    /// Same type, different value.
    ValueChanged,
}

/// One change with its path, e.g. `$.items[2].price`.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonChange {
    pub path: String,
    pub kind: ChangeKind,
    /// The production value at this path (absent for `Added`).
    pub before: Option<Value>,
    /// The candidate value at this path (absent for `Missing`).
    pub after: Option<Value>,
}

/// Name of a value's JSON type.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// All changes from `a` to `b`, paths rooted at `root` (e.g. `$`).
pub fn json_changes(a: &Value, b: &Value, root: &str) -> Vec<JsonChange> {
    let mut out = Vec::new();
    walk(a, b, root.to_owned(), &mut out);
    out
}

fn change(
    path: String,
    kind: ChangeKind,
    before: Option<&Value>,
    after: Option<&Value>,
) -> JsonChange {
    JsonChange {
        path,
        kind,
        before: before.cloned(),
        after: after.cloned(),
    }
}

fn walk(a: &Value, b: &Value, path: String, out: &mut Vec<JsonChange>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = format!("{path}.{k}");
                match y.get(k) {
                    Some(vb) => walk(va, vb, p, out),
                    None => out.push(change(p, ChangeKind::Missing, Some(va), None)),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    out.push(change(
                        format!("{path}.{k}"),
                        ChangeKind::Added,
                        None,
                        Some(vb),
                    ));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if is_scalar_set(x) && is_scalar_set(y) => {
            for va in x.iter().filter(|va| !y.iter().any(|vb| scalar_eq(va, vb))) {
                out.push(change(
                    format!("{path}[]"),
                    ChangeKind::Missing,
                    Some(va),
                    None,
                ));
            }
            for vb in y.iter().filter(|vb| !x.iter().any(|va| scalar_eq(va, vb))) {
                out.push(change(
                    format!("{path}[]"),
                    ChangeKind::Added,
                    None,
                    Some(vb),
                ));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            // Pair equal elements wherever they are, then the rest in order.
            let mut paired_y = vec![false; y.len()];
            let mut pair: Vec<Option<usize>> = x
                .iter()
                .map(|va| {
                    let j = (0..y.len()).find(|j| !paired_y[*j] && equal(va, &y[*j]))?;
                    paired_y[j] = true;
                    Some(j)
                })
                .collect();
            let mut rest = (0..y.len())
                .filter(|j| !paired_y[*j])
                .collect::<Vec<_>>()
                .into_iter();
            for p in pair.iter_mut().filter(|p| p.is_none()) {
                *p = rest.next();
            }
            for (i, (va, j)) in x.iter().zip(&pair).enumerate() {
                let p = format!("{path}[{i}]");
                match j {
                    Some(j) => walk(va, &y[*j], p, out),
                    None => out.push(change(p, ChangeKind::Missing, Some(va), None)),
                }
            }
            for j in rest {
                out.push(change(
                    format!("{path}[{j}]"),
                    ChangeKind::Added,
                    None,
                    Some(&y[j]),
                ));
            }
        }
        _ if type_name(a) != type_name(b) => out.push(change(
            path,
            ChangeKind::TypeChanged {
                from: type_name(a),
                to: type_name(b),
            },
            Some(a),
            Some(b),
        )),
        _ if !scalar_eq(a, b) => out.push(change(path, ChangeKind::ValueChanged, Some(a), Some(b))),
        _ => {}
    }
}

/// Equal as JSON trees (numbers within the tolerance, scalar arrays as sets).
fn equal(a: &Value, b: &Value) -> bool {
    let mut changes = Vec::new();
    walk(a, b, String::new(), &mut changes);
    changes.is_empty()
}

fn is_scalar_set(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|v| !v.is_array() && !v.is_object())
}

/// Scalar equality with a relative tolerance for numbers.
fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => {
            (x - y).abs() <= 1e-9_f64.max(1e-6 * x.abs().max(y.abs()))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_missing_added_type_and_value_changes() {
        let a = json!({"name": "Ada", "age": 36, "tags": ["x", "y"], "items": [{"p": 1}]});
        let b = json!({"name": "Ada", "age": "36", "tags": ["y", "x"], "items": [{"p": 2}], "extra": true});
        let changes = json_changes(&a, &b, "$");
        let paths: Vec<_> = changes
            .iter()
            .map(|c| (c.path.as_str(), c.kind.clone()))
            .collect();
        assert_eq!(
            paths,
            vec![
                (
                    "$.age",
                    ChangeKind::TypeChanged {
                        from: "number",
                        to: "string"
                    }
                ),
                ("$.items[0].p", ChangeKind::ValueChanged),
                ("$.extra", ChangeKind::Added),
            ]
        );
    }

    #[test]
    fn scalar_arrays_are_sets_and_numbers_tolerant() {
        assert!(json_changes(&json!([1, 2, 3]), &json!([3, 1, 2]), "$").is_empty());
        assert!(json_changes(&json!(0.1 + 0.2), &json!(0.3), "$").is_empty());
        let c = json_changes(&json!(["a", "b"]), &json!(["a"]), "$");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind, ChangeKind::Missing);
        assert_eq!(c[0].before, Some(json!("b")));
    }

    #[test]
    fn reordered_objects_are_paired() {
        let a = json!([{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]);
        let b = json!([{"sku": "B", "qty": 1}, {"sku": "A", "qty": 2}]);
        assert!(json_changes(&a, &b, "$").is_empty());
        let b = json!([{"sku": "B", "qty": 1}, {"sku": "A", "qty": 3}]);
        let c = json_changes(&a, &b, "$");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].path, "$[0].qty");
        let c = json_changes(&a, &json!([{"sku": "B", "qty": 1}]), "$");
        assert_eq!(
            (c.len(), c[0].path.as_str(), &c[0].kind),
            (1, "$[0]", &ChangeKind::Missing)
        );
    }

    #[test]
    fn identical_trees_have_no_changes() {
        let v = json!({"a": [{"b": null}, [1, [2]]], "c": "d"});
        assert!(json_changes(&v, &v.clone(), "$").is_empty());
    }
}
