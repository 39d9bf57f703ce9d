//! A small, tolerant decoder of PHP `serialize()` output (WordPress post meta, user meta,
//! options) into JSON values. String lengths are UTF-8 byte counts; when a length is wrong (a
//! value re-encoded behind WordPress's back) the decoder resyncs on the closing `";` instead of
//! giving up. Anything it cannot read is an error that the importer reports with the object id
//! while keeping the raw string.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a PHP serialized value at byte {at}: {reason}")]
pub struct PhpError {
    pub at: usize,
    pub reason: &'static str,
}

/// Whether the text looks like a serialized value (WordPress's own `is_serialized` check, simplified).
pub fn looks_serialized(raw: &str) -> bool {
    let t = raw.trim();
    t == "N;"
        || (t.len() >= 4
            && matches!(t.as_bytes()[0], b'a' | b'O' | b's' | b'i' | b'd' | b'b')
            && t.as_bytes()[1] == b':'
            && (t.ends_with(';') || t.ends_with('}')))
}

/// Decodes one serialized value; trailing garbage is an error.
pub fn unserialize(raw: &str) -> Result<Value, PhpError> {
    let mut p = Parser { s: raw.trim().as_bytes(), i: 0 };
    let v = p.value(0)?;
    if p.i != p.s.len() {
        return Err(PhpError { at: p.i, reason: "trailing data" });
    }
    Ok(v)
}

/// The value of a meta row: decoded JSON when serialized, else the plain string.
pub fn meta_value(raw: &str) -> Result<Value, PhpError> {
    if looks_serialized(raw) { unserialize(raw) } else { Ok(Value::String(raw.to_owned())) }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> PhpError {
        PhpError { at: self.i, reason }
    }

    fn expect(&mut self, b: u8) -> Result<(), PhpError> {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err("unexpected character"))
        }
    }

    fn until(&mut self, stop: u8) -> Result<&str, PhpError> {
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != stop {
            self.i += 1;
        }
        if self.i >= self.s.len() {
            return Err(self.err("unterminated token"));
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("invalid UTF-8"))?;
        self.i += 1;
        Ok(text)
    }

    fn number(&mut self, stop: u8) -> Result<i64, PhpError> {
        let at = self.i;
        self.until(stop)?.trim().parse().map_err(|_| PhpError { at, reason: "bad number" })
    }

    fn string_body(&mut self) -> Result<String, PhpError> {
        let len = usize::try_from(self.number(b':')?).map_err(|_| self.err("negative length"))?;
        self.expect(b'"')?;
        let start = self.i;
        let end = start + len;
        if end < self.s.len() && self.s[end] == b'"' && std::str::from_utf8(&self.s[start..end]).is_ok() {
            self.i = end + 1;
            return std::str::from_utf8(&self.s[start..end]).map(str::to_owned).map_err(|_| self.err("invalid UTF-8"));
        }
        // Wrong byte length: resync on the next `";` or `":` (object class names).
        let rest = &self.s[start..];
        let close = rest.windows(2).position(|w| w == b"\";" || w == b"\":").ok_or_else(|| self.err("bad string"))?;
        self.i = start + close + 1;
        std::str::from_utf8(&rest[..close]).map(str::to_owned).map_err(|_| self.err("invalid UTF-8"))
    }

    fn value(&mut self, depth: usize) -> Result<Value, PhpError> {
        if depth > 64 {
            return Err(self.err("nested too deeply"));
        }
        let tag = *self.s.get(self.i).ok_or_else(|| self.err("unexpected end"))?;
        self.i += 1;
        if tag == b'N' {
            self.expect(b';')?;
            return Ok(Value::Null);
        }
        self.expect(b':')?;
        match tag {
            b'b' => Ok(Value::Bool(self.number(b';')? != 0)),
            b'i' => Ok(Value::from(self.number(b';')?)),
            b'd' => {
                let at = self.i;
                let text = self.until(b';')?;
                let f: f64 = text.parse().map_err(|_| PhpError { at, reason: "bad float" })?;
                Ok(serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null))
            }
            b's' => {
                let s = self.string_body()?;
                self.expect(b';')?;
                Ok(Value::String(s))
            }
            b'a' => self.array(depth),
            b'O' => {
                let class = self.string_body()?;
                self.expect(b':')?;
                let mut obj = match self.array(depth)? {
                    Value::Object(m) => m,
                    Value::Array(items) => items.into_iter().enumerate().map(|(k, v)| (k.to_string(), v)).collect(),
                    _ => Map::new(),
                };
                obj.insert("__class".into(), Value::String(class));
                Ok(Value::Object(obj))
            }
            _ => Err(self.err("unknown type")),
        }
    }

    /// `n:{key;value…}` — a list when the keys are 0..n in order, else an object.
    fn array(&mut self, depth: usize) -> Result<Value, PhpError> {
        let n = self.number(b':')?;
        self.expect(b'{')?;
        let mut entries = Vec::new();
        for _ in 0..n.max(0) {
            let key = match self.value(depth + 1)? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let v = self.value(depth + 1)?;
            entries.push((key, v));
        }
        self.expect(b'}')?;
        let is_list = entries.iter().enumerate().all(|(i, (k, _))| k == &i.to_string());
        if is_list && !entries.is_empty() {
            Ok(Value::Array(entries.into_iter().map(|(_, v)| v).collect()))
        } else {
            Ok(Value::Object(entries.into_iter().collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mg1_serialized_meta_with_utf8_byte_lengths_decodes() {
        let raw = r#"a:3:{s:5:"title";s:10:"Қазақ";s:4:"tags";a:2:{i:0;s:1:"a";i:1;s:1:"b";}s:1:"n";i:7;}"#;
        let v = unserialize(raw).expect("decodes");
        assert_eq!(v["title"], "Қазақ");
        assert_eq!(v["tags"], serde_json::json!(["a", "b"]));
        assert_eq!(v["n"], 7);
    }

    #[test]
    fn mg1_wrong_string_length_resyncs_and_garbage_is_an_error() {
        let v = unserialize(r#"a:1:{s:6:"author";b:1;}"#).expect("decodes");
        assert_eq!(v["author"], true);
        let resynced = unserialize(r#"a:1:{s:3:"key";s:99:"short";}"#).expect("resyncs");
        assert_eq!(resynced["key"], "short");
        assert!(unserialize("a:2:{s:1:\"x\";").is_err());
        assert!(meta_value("plain text").is_ok());
    }
}
