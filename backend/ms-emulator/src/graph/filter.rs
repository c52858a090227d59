//! A small OData `$filter` parser/evaluator covering what Graph clients use:
//! `eq ne gt ge lt le`, `and or not`, parentheses, `in (...)`, `startswith`, `endswith`,
//! lambdas `any`/`all` (`assignedLicenses/any(u:u/skuId eq <guid>)`, `groupTypes/any(c:c eq 'Unified')`).

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
    Colon,
}

#[derive(Clone, Debug)]
pub enum Expr {
    Cmp(String, Op, Value),
    In(String, Vec<Value>),
    Func(String, String, String),
    Any(String, String, Box<Expr>, bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = vec![];
    while i < c.len() {
        let ch = c[i];
        match ch {
            ' ' | '\t' | '\n' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\'') if c.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(x) => {
                            v.push(*x);
                            i += 1
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let start = i;
                while i < c.len() && !matches!(c[i], ' ' | '(' | ')' | ',' | ':' | '\'' | '\t') {
                    i += 1;
                }
                let w: String = c[start..i].iter().collect();
                if uuid::Uuid::parse_str(&w).is_ok() && w.len() == 36 {
                    out.push(Tok::Str(w));
                } else if let Ok(n) = w.parse::<f64>() {
                    out.push(Tok::Num(n));
                } else {
                    out.push(Tok::Ident(w));
                }
            }
        }
    }
    Ok(out)
}

struct P {
    t: Vec<Tok>,
    i: usize,
    /// Operators that need advanced query parameters (ne, not, endsWith).
    pub advanced: Vec<String>,
    pub props: Vec<String>,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.t.get(self.i).cloned();
        self.i += 1;
        t
    }
    fn kw(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(k))
    }
    fn expect(&mut self, t: Tok) -> Result<(), String> {
        if self.next() == Some(t.clone()) { Ok(()) } else { Err(format!("expected {t:?}")) }
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut l = self.and()?;
        while self.kw("or") {
            self.i += 1;
            l = Expr::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut l = self.unary()?;
        while self.kw("and") {
            self.i += 1;
            l = Expr::And(Box::new(l), Box::new(self.unary()?));
        }
        Ok(l)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.kw("not") {
            self.i += 1;
            self.advanced.push("not".into());
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }
    fn literal(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Value::String(s)),
            Some(Tok::Num(n)) => Ok(serde_json::json!(n)),
            Some(Tok::Ident(w)) if w == "true" => Ok(Value::Bool(true)),
            Some(Tok::Ident(w)) if w == "false" => Ok(Value::Bool(false)),
            Some(Tok::Ident(w)) if w == "null" => Ok(Value::Null),
            other => Err(format!("expected a literal, found {other:?}")),
        }
    }
    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Some(Tok::Ident(w)) => {
                let lw = w.to_ascii_lowercase();
                if (lw == "startswith" || lw == "endswith" || lw == "contains") && self.peek() == Some(&Tok::LParen) {
                    self.i += 1;
                    let Some(Tok::Ident(path)) = self.next() else {
                        return Err("expected property".into());
                    };
                    self.expect(Tok::Comma)?;
                    let Some(Tok::Str(v)) = self.next() else {
                        return Err("expected string".into());
                    };
                    self.expect(Tok::RParen)?;
                    if lw != "startswith" {
                        self.advanced.push(if lw == "endswith" { "endsWith".into() } else { "contains".into() });
                    }
                    self.props.push(path.clone());
                    return Ok(Expr::Func(lw, path, v));
                }
                let lower = w.to_ascii_lowercase();
                if (lower.ends_with("/any") || lower.ends_with("/all")) && self.peek() == Some(&Tok::LParen) {
                    let all = lower.ends_with("/all");
                    let path = w[..w.len() - 4].to_string();
                    self.props.push(path.clone());
                    self.i += 1;
                    let Some(Tok::Ident(var)) = self.next() else {
                        return Err("expected lambda variable".into());
                    };
                    self.expect(Tok::Colon)?;
                    let before = self.props.len();
                    let inner = self.or()?;
                    // Properties inside the lambda are relative to the range variable.
                    let tail: Vec<String> = self.props.split_off(before);
                    self.props.extend(tail.into_iter().filter(|p| p.split('/').next() != Some(var.as_str())));
                    self.expect(Tok::RParen)?;
                    return Ok(Expr::Any(path, var, Box::new(inner), all));
                }
                self.props.push(w.clone());
                if self.kw("in") {
                    self.i += 1;
                    self.expect(Tok::LParen)?;
                    let mut vals = vec![self.literal()?];
                    while self.peek() == Some(&Tok::Comma) {
                        self.i += 1;
                        vals.push(self.literal()?);
                    }
                    self.expect(Tok::RParen)?;
                    return Ok(Expr::In(w, vals));
                }
                let op = match self.next() {
                    Some(Tok::Ident(o)) => match o.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "ne" => {
                            self.advanced.push("ne".into());
                            Op::Ne
                        }
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        _ => return Err(format!("unknown operator '{o}'")),
                    },
                    other => return Err(format!("expected operator, found {other:?}")),
                };
                let v = self.literal()?;
                Ok(Expr::Cmp(w, op, v))
            }
            other => Err(format!("unexpected token {other:?}")),
        }
    }
}

pub struct Parsed {
    pub expr: Expr,
    pub advanced: Vec<String>,
    pub props: Vec<String>,
}

pub fn parse(s: &str) -> Result<Parsed, String> {
    let mut p = P { t: lex(s)?, i: 0, advanced: vec![], props: vec![] };
    let e = p.or()?;
    if p.i != p.t.len() {
        return Err("trailing tokens".into());
    }
    Ok(Parsed { expr: e, advanced: p.advanced, props: p.props })
}

fn resolve<'a>(obj: &'a Value, path: &str, var: Option<(&str, &'a Value)>) -> Option<&'a Value> {
    let mut parts = path.split('/');
    let first = parts.next()?;
    let mut cur = match var {
        Some((v, val)) if v == first => val,
        _ => obj.get(first)?,
    };
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

fn cmp(a: Option<&Value>, op: Op, b: &Value) -> bool {
    let a = a.unwrap_or(&Value::Null);
    let ord = match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Value::Number(x), Value::Number(y)) => x.as_f64().zip(y.as_f64()).and_then(|(x, y)| x.partial_cmp(&y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(std::cmp::Ordering::Equal),
        (Value::String(x), Value::Number(y)) => {
            x.parse::<f64>().ok().zip(y.as_f64()).and_then(|(x, y)| x.partial_cmp(&y))
        }
        _ => None,
    };
    match (op, ord) {
        (Op::Eq, Some(o)) => o.is_eq(),
        (Op::Eq, None) => false,
        (Op::Ne, Some(o)) => !o.is_eq(),
        (Op::Ne, None) => true,
        (Op::Gt, Some(o)) => o.is_gt(),
        (Op::Ge, Some(o)) => o.is_ge(),
        (Op::Lt, Some(o)) => o.is_lt(),
        (Op::Le, Some(o)) => o.is_le(),
        _ => false,
    }
}

pub fn eval(e: &Expr, obj: &Value) -> bool {
    eval_in(e, obj, None)
}

fn eval_in<'a>(e: &Expr, obj: &'a Value, var: Option<(&str, &'a Value)>) -> bool {
    match e {
        Expr::Cmp(p, op, v) => cmp(resolve(obj, p, var), *op, v),
        Expr::In(p, vals) => {
            let a = resolve(obj, p, var);
            vals.iter().any(|v| cmp(a, Op::Eq, v))
        }
        Expr::Func(f, p, v) => {
            let s = resolve(obj, p, var).and_then(Value::as_str).unwrap_or_default().to_lowercase();
            let v = v.to_lowercase();
            match f.as_str() {
                "startswith" => s.starts_with(&v),
                "endswith" => s.ends_with(&v),
                _ => s.contains(&v),
            }
        }
        Expr::Any(p, v, inner, all) => {
            let Some(Value::Array(items)) = resolve(obj, p, var) else {
                return false;
            };
            if *all {
                items.iter().all(|it| eval_in(inner, obj, Some((v.as_str(), it))))
            } else {
                items.iter().any(|it| eval_in(inner, obj, Some((v.as_str(), it))))
            }
        }
        Expr::And(a, b) => eval_in(a, obj, var) && eval_in(b, obj, var),
        Expr::Or(a, b) => eval_in(a, obj, var) || eval_in(b, obj, var),
        Expr::Not(a) => !eval_in(a, obj, var),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    fn m(f: &str, v: &Value) -> bool {
        eval(&parse(f).expect("parse").expr, v)
    }
    #[test]
    fn filters() {
        let u = json!({"displayName": "Ava Garcia", "accountEnabled": true, "assignedLicenses": [{"skuId": "94763226-9b3c-4e75-a931-5c89701abe66"}], "groupTypes": ["Unified"], "submittedBy": {"user": {"id": "x"}}});
        assert!(m("displayName eq 'ava garcia'", &u));
        assert!(!m("displayName eq 'Bob'", &u));
        assert!(m("startswith(displayName,'Av') and accountEnabled eq true", &u));
        assert!(m("assignedLicenses/any(u:u/skuId eq 94763226-9b3c-4e75-a931-5c89701abe66)", &u));
        assert!(m("groupTypes/any(c:c eq 'Unified')", &u));
        assert!(m("submittedBy/user/id eq 'x'", &u));
        assert!(m("displayName in ('a', 'Ava Garcia')", &u));
        assert!(m("(displayName eq 'z' or displayName eq 'Ava Garcia')", &u));
        assert!(parse("displayName eq").is_err());
        assert!(parse("displayName eq 'it''s'").is_ok());
        assert_eq!(parse("displayName ne 'x'").expect("p").advanced, vec!["ne".to_string()]);
    }
}
