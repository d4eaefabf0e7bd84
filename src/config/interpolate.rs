//! `${VAR}` interpolation in configuration strings, applied after TOML parsing so
//! a value can never change the file's structure.

/// Expands `${VAR}` and `${VAR:-default}`; `$$` is a literal `$`. `lookup` returns
/// the variable's value, `None` when unset.
pub fn expand(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    if !s.contains('$') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let end = r.find('}').ok_or_else(|| "unclosed `${`".to_owned())?;
            let inner = &r[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            let valid = !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit();
            if !valid {
                return Err(format!("`${{{inner}}}` is not a valid variable reference"));
            }
            match (lookup(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(format!("environment variable {name} is not set")),
            }
            rest = &r[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands every string in a TOML tree; errors name the key path.
pub fn expand_tree(
    v: &mut toml::Value,
    path: &mut Vec<String>,
    lookup: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) {
    match v {
        toml::Value::String(s) => match expand(s, lookup) {
            Ok(e) => *s = e,
            Err(e) => errors.push(format!("{}: {e}", path.join("."))),
        },
        toml::Value::Array(a) => {
            for (i, item) in a.iter_mut().enumerate() {
                if let Some(last) = path.last_mut() {
                    let base = last.clone();
                    *last = format!("{base}[{i}]");
                    expand_tree(item, path, lookup, errors);
                    if let Some(last) = path.last_mut() {
                        *last = base;
                    }
                }
            }
        }
        toml::Value::Table(t) => {
            for (k, item) in t.iter_mut() {
                path.push(k.clone());
                expand_tree(item, path, lookup, errors);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands() {
        assert_eq!(expand("x-${A}-y", &env).as_deref(), Ok("x-alpha-y"));
        assert_eq!(expand("${B:-dflt}", &env).as_deref(), Ok("dflt"));
        assert_eq!(expand("${B:-}", &env).as_deref(), Ok(""));
        assert_eq!(expand("$${A} $5", &env).as_deref(), Ok("${A} $5"));
        assert_eq!(expand("${EMPTY}", &env).as_deref(), Ok(""));
        assert!(expand("${B}", &env).unwrap_err().contains("B is not set"));
        assert!(expand("${A", &env).is_err());
        assert!(expand("${1X}", &env).is_err());
    }

    #[test]
    fn tree_errors_name_the_key() -> Result<(), toml::de::Error> {
        let mut v: toml::Value = toml::from_str("[[source]]\nsecrets = [\"${A}\", \"${NOPE}\"]\n")?;
        let mut errors = Vec::new();
        expand_tree(&mut v, &mut Vec::new(), &env, &mut errors);
        assert_eq!(
            errors,
            ["source[0].secrets[1]: environment variable NOPE is not set"]
        );
        Ok(())
    }
}
