//! List queries as JumpCloud parses them: `filter` (v1 `field:$op:value`, v2
//! `field:op:value`), `sort` (v1 space-separated, v2 comma-separated, `-` for descending),
//! `fields` (projection) and `limit`/`skip` paging (limit at most 100).

use serde_json::Value;

use crate::ApiError;

/// Which API generation a list belongs to; the syntaxes differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V1,
    V2,
}

/// A parsed list query.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    /// `filter[or][n]` terms (v1): at least one must hold.
    pub any_of: Vec<Filter>,
    pub sort: Vec<(String, bool)>,
    pub fields: Vec<String>,
    pub limit: usize,
    pub skip: usize,
}

/// One `field:op:value` term.
#[derive(Debug, Clone)]
pub struct Filter {
    pub field: String,
    pub op: Op,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    In,
    Search,
}

impl ListQuery {
    /// Parses the query pairs of a list request.
    pub fn parse(api: Api, query: &[(String, String)]) -> Result<ListQuery, ApiError> {
        let mut q = ListQuery {
            limit: 10,
            ..Default::default()
        };
        for (k, v) in query {
            let key = k.as_str();
            if key == "limit" {
                q.limit = v
                    .parse()
                    .map_err(|_| ApiError::bad_request(format!("limit: `{v}` is not a number")))?;
                if q.limit > 100 {
                    return Err(ApiError::bad_request("limit: must be at most 100"));
                }
            } else if key == "skip" {
                q.skip = v
                    .parse()
                    .map_err(|_| ApiError::bad_request(format!("skip: `{v}` is not a number")))?;
            } else if key == "sort" {
                let sep = if api == Api::V1 { ' ' } else { ',' };
                for s in v.split(sep).filter(|s| !s.is_empty()) {
                    match s.strip_prefix('-') {
                        Some(f) => q.sort.push((f.to_owned(), true)),
                        None => q.sort.push((s.to_owned(), false)),
                    }
                }
            } else if key == "fields" {
                let sep = if api == Api::V1 { ' ' } else { ',' };
                q.fields
                    .extend(v.split(sep).filter(|s| !s.is_empty()).map(str::to_owned));
            } else if key.starts_with("filter[or]") {
                q.any_of.push(Filter::parse(api, v)?);
            } else if key == "filter" || key.starts_with("filter[") {
                q.filters.push(Filter::parse(api, v)?);
            }
        }
        Ok(q)
    }

    /// Whether an object passes the filters.
    pub fn matches(&self, obj: &Value) -> bool {
        self.filters.iter().all(|f| f.matches(obj))
            && (self.any_of.is_empty() || self.any_of.iter().any(|f| f.matches(obj)))
    }

    /// Filters, sorts, pages and projects `items`; returns the page and the filtered total.
    pub fn apply(&self, items: Vec<Value>) -> (Vec<Value>, usize) {
        self.apply_refs(items.iter())
    }

    /// [`ListQuery::apply`] over borrowed objects: filters and sorts references and copies
    /// only the page returned (a listing of a large organisation copied every object
    /// before filtering).
    pub fn apply_refs<'a>(&self, items: impl Iterator<Item = &'a Value>) -> (Vec<Value>, usize) {
        let mut items: Vec<&Value> = items.filter(|o| self.matches(o)).collect();
        if !self.sort.is_empty() {
            items.sort_by(|a, b| {
                for (field, desc) in &self.sort {
                    let ord = compare(lookup(a, field), lookup(b, field));
                    let ord = if *desc { ord.reverse() } else { ord };
                    if ord != std::cmp::Ordering::Equal {
                        return ord;
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        let total = items.len();
        let page = items
            .into_iter()
            .skip(self.skip)
            .take(self.limit)
            .map(|o| self.project(o.clone()))
            .collect();
        (page, total)
    }

    fn project(&self, obj: Value) -> Value {
        if self.fields.is_empty() {
            return obj;
        }
        let Value::Object(map) = obj else { return obj };
        map.into_iter()
            .filter(|(k, _)| k == "_id" || k == "id" || self.fields.iter().any(|f| f == k))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

impl Filter {
    fn parse(api: Api, term: &str) -> Result<Filter, ApiError> {
        let bad = || {
            ApiError::bad_request(format!(
                "filter `{term}`: expected {}",
                if api == Api::V1 {
                    "field:$op:value with $eq, $ne, $gt, $gte, $lt or $lte"
                } else {
                    "field:op:value with eq, ne, gt, ge, lt, le, in or search"
                }
            ))
        };
        let mut parts = term.splitn(3, ':');
        let (Some(field), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let op = match (api, op) {
            (Api::V1, "$eq") | (Api::V2, "eq") => Op::Eq,
            (Api::V1, "$ne") | (Api::V2, "ne") => Op::Ne,
            (Api::V1, "$gt") | (Api::V2, "gt") => Op::Gt,
            (Api::V1, "$gte") | (Api::V2, "ge") => Op::Ge,
            (Api::V1, "$lt") | (Api::V2, "lt") => Op::Lt,
            (Api::V1, "$lte") | (Api::V2, "le") => Op::Le,
            (Api::V2, "in") => Op::In,
            (Api::V2, "search") => Op::Search,
            _ => return Err(bad()),
        };
        Ok(Filter {
            field: field.to_owned(),
            op,
            value: value.to_owned(),
        })
    }

    /// Case-sensitive, as JumpCloud's filters are.
    pub fn matches(&self, obj: &Value) -> bool {
        let actual = lookup(obj, &self.field);
        let cmp = || compare_to_text(actual, &self.value);
        match self.op {
            Op::Eq => cmp() == Some(std::cmp::Ordering::Equal),
            Op::Ne => cmp() != Some(std::cmp::Ordering::Equal),
            Op::Gt => cmp() == Some(std::cmp::Ordering::Greater),
            Op::Ge => matches!(
                cmp(),
                Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
            ),
            Op::Lt => cmp() == Some(std::cmp::Ordering::Less),
            Op::Le => matches!(
                cmp(),
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            ),
            Op::In => self
                .value
                .split('|')
                .any(|v| compare_to_text(actual, v) == Some(std::cmp::Ordering::Equal)),
            Op::Search => actual
                .and_then(Value::as_str)
                .is_some_and(|s| s.contains(self.value.as_str())),
        }
    }
}

/// A dotted path into an object (`attributes.sudo.enabled`).
pub fn lookup<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(obj, |v, seg| v.get(seg))
}

/// Compares a JSON value with query text: numbers numerically, booleans and strings as text.
fn compare_to_text(actual: Option<&Value>, text: &str) -> Option<std::cmp::Ordering> {
    match actual? {
        Value::Number(n) => {
            let a = n.as_f64()?;
            let b: f64 = text.parse().ok()?;
            a.partial_cmp(&b)
        }
        Value::Bool(b) => Some(b.to_string().as_str().cmp(text)),
        Value::String(s) => Some(s.as_str().cmp(text)),
        Value::Null => Some("null".cmp(text)),
        _ => None,
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(api: Api, pairs: &[(&str, &str)]) -> Result<ListQuery, ApiError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ListQuery::parse(api, &pairs)
    }

    #[test]
    fn filters_sort_page_and_project() {
        let items = vec![
            json!({"_id": "1", "username": "b", "uid": 5, "department": "Sales"}),
            json!({"_id": "2", "username": "a", "uid": 7, "department": "Engineering"}),
            json!({"_id": "3", "username": "c", "uid": 6, "department": "Engineering"}),
        ];
        let query = q(
            Api::V1,
            &[
                ("filter", "department:$eq:Engineering"),
                ("sort", "-uid"),
                ("fields", "username"),
                ("limit", "1"),
            ],
        )
        .unwrap();
        let (page, total) = query.apply(items.clone());
        assert_eq!(total, 2);
        assert_eq!(page, vec![json!({"_id": "2", "username": "a"})]);
        let query = q(Api::V2, &[("filter", "uid:in:5|6"), ("sort", "username")]).unwrap();
        let (page, _) = query.apply(items.clone());
        assert_eq!(page.len(), 2);
        assert_eq!(page[0]["username"], "b");
        let query = q(
            Api::V1,
            &[
                ("filter[or][0]", "username:$eq:a"),
                ("filter[or][1]", "username:$eq:c"),
            ],
        )
        .unwrap();
        assert_eq!(query.apply(items).1, 2);
    }

    #[test]
    fn bad_queries_are_400s() {
        assert!(q(Api::V1, &[("limit", "101")]).is_err());
        assert!(q(Api::V1, &[("filter", "a:eq:b")]).is_err());
        assert!(q(Api::V2, &[("filter", "a:$eq:b")]).is_err());
        assert!(q(Api::V2, &[("filter", "nothing")]).is_err());
        assert!(q(Api::V2, &[("skip", "-1")]).is_err());
    }
}
