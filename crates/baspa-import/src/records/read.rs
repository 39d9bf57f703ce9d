//! Reading the records of a generic import (MG-7) from CSV, JSON (an array of objects, or JSON
//! Lines) and XML (a repeated record element) into one flat shape: column → value, nested keys
//! and child elements joined with `/`. A record that cannot be read (invalid UTF-8, a broken
//! object or element, a short CSV row) becomes a problem with its number and, when it can be
//! made out, its external id; the other records are still read.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::mapping::{Format, Mapping};

/// One source record, flattened.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based position among the file's records (CSV data rows, array elements, JSON lines,
    /// record elements), the number problems are reported with.
    pub number: u64,
    /// Column → value: strings from CSV and XML, JSON values as they are (lists for repeated
    /// XML elements and JSON arrays).
    pub fields: BTreeMap<String, Value>,
    /// XML only: the inner markup of elements that have child elements (a body written as
    /// XHTML), looked up when a mapped column is not a plain field.
    pub markup: BTreeMap<String, String>,
}

impl Record {
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.fields.get(column)
    }

    /// A column as text: `None` when absent or null, an error for a list or an object.
    pub fn text(&self, column: &str) -> Result<Option<String>, String> {
        match self.fields.get(column) {
            None | Some(Value::Null) => Ok(self.markup.get(column).cloned()),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(Value::Array(_)) => Err(format!("column {column:?} holds a list where text is expected")),
            Some(Value::Object(_)) => Err(format!("column {column:?} holds an object where text is expected")),
        }
    }
}

/// A record (or the file) that could not be read or imported as it is; never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordProblem {
    /// The record's number (`None`: the file as a whole).
    pub record: Option<u64>,
    /// The record's external id, when it could be read.
    pub id: Option<String>,
    pub message: String,
}

impl RecordProblem {
    pub fn new(record: Option<u64>, id: Option<String>, message: impl Into<String>) -> Self {
        Self { record, id, message: message.into() }
    }
}

/// What a file gave.
#[derive(Debug, Default)]
pub struct Records {
    pub records: Vec<Record>,
    pub problems: Vec<RecordProblem>,
}

/// Reads `bytes` as `format`. An error means nothing could be read at all (no CSV header, an XML
/// record element never found in a document that does not parse).
pub fn read(bytes: &[u8], format: Format, mapping: &Mapping) -> Result<Records, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match format {
        Format::Csv => read_csv(bytes, mapping),
        Format::Json => Ok(read_json_array(bytes, &mapping.columns.id)),
        Format::Jsonl => Ok(read_json_lines(bytes, &mapping.columns.id)),
        Format::Xml => {
            let element = mapping.record.as_deref().ok_or("an XML source needs `record` in the mapping")?;
            Ok(read_xml(bytes, element, &mapping.columns.id))
        }
    }
}

fn read_csv(bytes: &[u8], mapping: &Mapping) -> Result<Records, String> {
    let mut reader = csv::ReaderBuilder::new().delimiter(mapping.delimiter).flexible(true).from_reader(bytes);
    let header = reader.byte_headers().map_err(|e| format!("CSV header: {e}"))?.clone();
    let mut columns = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let name = std::str::from_utf8(h).map_err(|_| format!("CSV header: column {} is not valid UTF-8", i + 1))?;
        columns.push(name.trim().to_owned());
    }
    let id_at = columns.iter().position(|c| *c == mapping.columns.id);
    let mut out = Records::default();
    for (i, row) in reader.byte_records().enumerate() {
        let number = i as u64 + 1;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                out.problems.push(RecordProblem::new(Some(number), None, format!("CSV: {e}")));
                continue;
            }
        };
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        let id = id_at.and_then(|at| row.get(at)).map(|v| String::from_utf8_lossy(v).trim().to_owned());
        let id = id.filter(|v| !v.is_empty());
        if row.len() != columns.len() {
            out.problems.push(RecordProblem::new(
                Some(number),
                id,
                format!("line {line}: {} fields where the header has {}", row.len(), columns.len()),
            ));
            continue;
        }
        let mut fields = BTreeMap::new();
        let mut bad = None;
        for (name, raw) in columns.iter().zip(row.iter()) {
            match std::str::from_utf8(raw) {
                Ok(v) => {
                    fields.insert(name.clone(), Value::String(v.to_owned()));
                }
                Err(e) => {
                    bad = Some(format!("line {line}: column {name:?} is not valid UTF-8 (byte {})", e.valid_up_to()));
                    break;
                }
            }
        }
        match bad {
            Some(message) => out.problems.push(RecordProblem::new(Some(number), id, message)),
            None => out.records.push(Record { number, fields, markup: BTreeMap::new() }),
        }
    }
    Ok(out)
}

/// Nested objects become `a/b` columns; arrays and scalars stay as they are.
fn flatten_json(prefix: &str, object: serde_json::Map<String, Value>, out: &mut BTreeMap<String, Value>) {
    for (k, v) in object {
        let key = if prefix.is_empty() { k } else { format!("{prefix}/{k}") };
        match v {
            Value::Object(inner) => flatten_json(&key, inner, out),
            other => {
                out.insert(key, other);
            }
        }
    }
}

fn json_record(number: u64, raw: &[u8], id_column: &str) -> Result<Record, RecordProblem> {
    let problem = |message: String| RecordProblem::new(Some(number), guess_json_id(raw, id_column), message);
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(object)) => {
            let mut fields = BTreeMap::new();
            flatten_json("", object, &mut fields);
            Ok(Record { number, fields, markup: BTreeMap::new() })
        }
        Ok(other) => Err(problem(format!("expected an object, found {}", json_type(&other)))),
        Err(e) if e.is_syntax() && std::str::from_utf8(raw).is_err() => Err(problem("not valid UTF-8".into())),
        Err(e) => Err(problem(format!("malformed JSON: {e}"))),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The id of a record that does not parse, read with a pattern (for the report only).
fn guess_json_id(raw: &[u8], id_column: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let key = format!("\"{}\"", id_column.rsplit('/').next().unwrap_or(id_column));
    let at = text.find(&key)? + key.len();
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let value: String = match rest.strip_prefix('"') {
        Some(quoted) => quoted.chars().take_while(|c| *c != '"').collect(),
        None => rest.chars().take_while(|c| !matches!(c, ',' | '}' | ']') && !c.is_whitespace()).collect(),
    };
    Some(value).filter(|v| !v.is_empty())
}

fn read_json_lines(bytes: &[u8], id_column: &str) -> Records {
    let mut out = Records::default();
    let mut number = 0;
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        number += 1;
        match json_record(number, line, id_column) {
            Ok(r) => out.records.push(r),
            Err(mut p) => {
                p.message = format!("line {}: {}", i + 1, p.message);
                out.problems.push(p);
            }
        }
    }
    out
}

/// Reads a JSON array of objects. A whole-file parse comes first; when the file is malformed,
/// the array is cut into its elements by bracket depth and each is parsed on its own, so one
/// broken record does not lose the others.
fn read_json_array(bytes: &[u8], id_column: &str) -> Records {
    let mut out = Records::default();
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(elements)) => {
            for (i, v) in elements.into_iter().enumerate() {
                let number = i as u64 + 1;
                match v {
                    Value::Object(object) => {
                        let mut fields = BTreeMap::new();
                        flatten_json("", object, &mut fields);
                        out.records.push(Record { number, fields, markup: BTreeMap::new() });
                    }
                    other => out.problems.push(RecordProblem::new(
                        Some(number),
                        None,
                        format!("expected an object, found {}", json_type(&other)),
                    )),
                }
            }
            return out;
        }
        Ok(other) => {
            out.problems.push(RecordProblem::new(
                None,
                None,
                format!(
                    "the file is {}, not an array of objects (use format = \"jsonl\" for one object per line)",
                    json_type(&other)
                ),
            ));
            return out;
        }
        Err(e) => out.problems.push(RecordProblem::new(
            None,
            None,
            format!("the JSON file is malformed ({e}); its records are read one by one"),
        )),
    }
    let (elements, tail) = split_json_array(bytes);
    for (i, (start, end)) in elements.iter().enumerate() {
        match json_record(i as u64 + 1, &bytes[*start..*end], id_column) {
            Ok(r) => out.records.push(r),
            Err(p) => out.problems.push(p),
        }
    }
    if let Some(message) = tail {
        let next = elements.len() as u64 + 1;
        out.problems.push(RecordProblem::new(Some(next), None, message));
    }
    out
}

/// The byte ranges of a top-level array's elements, and what stopped the scan early, if anything.
fn split_json_array(bytes: &[u8]) -> (Vec<(usize, usize)>, Option<String>) {
    let mut elements = Vec::new();
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if bytes.get(i) != Some(&b'[') {
        return (elements, Some("the file does not start with '[': not an array of records".into()));
    }
    i += 1;
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut start: Option<usize> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' if depth > 0 => depth -= 1,
                b']' => {
                    if let Some(s) = start.take() {
                        elements.push((s, i));
                    }
                    return (elements, None);
                }
                b',' if depth == 0 => {
                    if let Some(s) = start.take() {
                        elements.push((s, i));
                    }
                }
                _ => {}
            }
            if start.is_none() && !b.is_ascii_whitespace() && !(b == b',' && depth == 0) {
                start = Some(i);
            }
        }
        i += 1;
    }
    let tail = start.map(|_| "the file ends inside this record (truncated?)".to_owned());
    (elements, tail.or_else(|| Some("the array is not closed with ']' (truncated?)".to_owned())))
}

fn read_xml(bytes: &[u8], element: &str, id_column: &str) -> Records {
    let mut out = Records::default();
    let parsed = std::str::from_utf8(bytes)
        .map_err(|e| format!("not valid UTF-8 at byte {}", e.valid_up_to()))
        .and_then(|text| {
            let opts = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: u32::MAX };
            let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| e.to_string())?;
            let mut records = Vec::new();
            for (i, node) in doc.descendants().filter(|n| n.is_element() && n.tag_name().name() == element).enumerate()
            {
                records.push(xml_record(i as u64 + 1, node, text));
            }
            Ok(records)
        });
    match parsed {
        Ok(records) => out.records = records,
        Err(e) => {
            out.problems.push(RecordProblem::new(
                None,
                None,
                format!("the XML file is malformed ({e}); its <{element}> records are read one by one"),
            ));
            read_xml_chunks(bytes, element, id_column, &mut out);
        }
    }
    if out.records.is_empty() && out.problems.iter().all(|p| p.record.is_none()) {
        out.problems.push(RecordProblem::new(None, None, format!("no <{element}> record elements were found")));
    }
    out
}

/// The recovery path for a malformed XML file: each `<element>…</element>` is cut out of the
/// bytes and parsed alone (records are not expected to nest inside each other).
fn read_xml_chunks(bytes: &[u8], element: &str, id_column: &str, out: &mut Records) {
    let open = format!("<{element}");
    let close = format!("</{element}>");
    let mut at = 0;
    let mut number = 0;
    while let Some(found) = find(bytes, open.as_bytes(), at) {
        let after = found + open.len();
        // `<itemized>` is not `<item>`.
        if !bytes.get(after).is_some_and(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/') {
            at = after;
            continue;
        }
        number += 1;
        let self_closing = find(bytes, b">", after).filter(|gt| *gt > 0 && bytes[gt - 1] == b'/');
        let end = match self_closing {
            Some(gt) if find(bytes, b"<", after).is_none_or(|lt| lt > gt) => gt + 1,
            _ => match find(bytes, close.as_bytes(), after) {
                Some(c) => c + close.len(),
                None => {
                    let id = guess_xml_id(&bytes[found..], id_column);
                    out.problems.push(RecordProblem::new(
                        Some(number),
                        id,
                        format!("no closing </{element}> (truncated?)"),
                    ));
                    return;
                }
            },
        };
        let chunk = &bytes[found..end];
        at = end;
        let id = || guess_xml_id(chunk, id_column);
        let Ok(text) = std::str::from_utf8(chunk) else {
            out.problems.push(RecordProblem::new(Some(number), id(), "not valid UTF-8"));
            continue;
        };
        let opts = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: u32::MAX };
        match roxmltree::Document::parse_with_options(text, opts) {
            Ok(doc) => out.records.push(xml_record(number, doc.root_element(), text)),
            Err(e) => out.problems.push(RecordProblem::new(Some(number), id(), format!("malformed XML: {e}"))),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn guess_xml_id(chunk: &[u8], id_column: &str) -> Option<String> {
    let text = String::from_utf8_lossy(chunk);
    let value = if let Some(attr) = id_column.strip_prefix('@') {
        let key = format!("{attr}=\"");
        let at = text.find(&key)? + key.len();
        text[at..].split('"').next()?.to_owned()
    } else {
        let name = id_column.rsplit('/').next().unwrap_or(id_column);
        let key = format!("<{name}>");
        let at = text.find(&key)? + key.len();
        text[at..].split('<').next()?.trim().to_owned()
    };
    Some(value).filter(|v| !v.is_empty())
}

/// Attributes of the record element are `@name` columns; child elements are columns by local
/// name (deeper ones `parent/child`); an element given more than once becomes a list.
fn xml_record(number: u64, node: roxmltree::Node<'_, '_>, text: &str) -> Record {
    let mut record = Record { number, fields: BTreeMap::new(), markup: BTreeMap::new() };
    for a in node.attributes() {
        record.fields.insert(format!("@{}", a.name()), Value::String(a.value().to_owned()));
    }
    collect_xml(node, "", text, &mut record);
    record
}

fn collect_xml(node: roxmltree::Node<'_, '_>, prefix: &str, text: &str, record: &mut Record) {
    for child in node.children().filter(roxmltree::Node::is_element) {
        let name = child.tag_name().name();
        let path = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}/{name}") };
        for a in child.attributes() {
            insert_repeated(&mut record.fields, format!("{path}/@{}", a.name()), a.value().to_owned());
        }
        if child.children().any(|c| c.is_element()) {
            let inner = inner_markup(child, text);
            record.markup.insert(path.clone(), inner);
            collect_xml(child, &path, text, record);
        } else {
            let value: String = child.children().filter_map(|c| c.text()).collect();
            insert_repeated(&mut record.fields, path, value);
        }
    }
}

fn insert_repeated(fields: &mut BTreeMap<String, Value>, key: String, value: String) {
    match fields.get_mut(&key) {
        None => {
            fields.insert(key, Value::String(value));
        }
        Some(Value::Array(list)) => list.push(Value::String(value)),
        Some(first) => {
            let prev = first.take();
            *first = Value::Array(vec![prev, Value::String(value)]);
        }
    }
}

/// The source text between an element's start and end tags.
fn inner_markup(node: roxmltree::Node<'_, '_>, text: &str) -> String {
    let (Some(first), Some(last)) = (node.first_child(), node.last_child()) else {
        return String::new();
    };
    text.get(first.range().start..last.range().end).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(format: &str, extra: &str) -> Mapping {
        let text = format!(
            "source = \"t\"\nkind = \"article\"\nformat = \"{format}\"\n{extra}\n[language]\nfixed = \"kk\"\n[columns]\nid = \"id\"\ntitle = \"title\"\n"
        );
        Mapping::parse(&text).expect("mapping")
    }

    fn ids(r: &Records) -> Vec<String> {
        r.records.iter().map(|r| r.text("id").expect("text").unwrap_or_default()).collect()
    }

    #[test]
    fn mg7_csv_rows_with_bad_bytes_or_missing_fields_are_reported_and_the_rest_read() {
        let mut csv = b"id,title\n1,One\n2,Tw".to_vec();
        csv.push(0xFF);
        csv.extend_from_slice(b"o\n3\n4,\"Four, quoted\"\n");
        let r = read(&csv, Format::Csv, &mapping("csv", "")).expect("read");
        assert_eq!(ids(&r), ["1", "4"]);
        assert_eq!(r.records[1].text("title").expect("text").as_deref(), Some("Four, quoted"));
        assert_eq!(r.problems.len(), 2);
        assert_eq!((r.problems[0].record, r.problems[0].id.as_deref()), (Some(2), Some("2")));
        assert!(r.problems[0].message.contains("not valid UTF-8"), "{:?}", r.problems);
        assert_eq!((r.problems[1].record, r.problems[1].id.as_deref()), (Some(3), Some("3")));
    }

    #[test]
    fn mg7_a_malformed_json_array_loses_only_its_broken_record() {
        let json = br#"[{"id": "a", "title": "A", "meta": {"region": "north"}}, {"id": "b", "title": }, {"id": 3, "title": "C"}]"#;
        let r = read(json, Format::Json, &mapping("json", "")).expect("read");
        assert_eq!(ids(&r), ["a", "3"]);
        assert_eq!(r.records[0].get("meta/region"), Some(&Value::String("north".into())));
        let broken = r.problems.iter().find(|p| p.record.is_some()).expect("record problem");
        assert_eq!((broken.record, broken.id.as_deref()), (Some(2), Some("b")));
        let truncated =
            read(br#"[{"id": "a", "title": "A"}, {"id": "b", "ti"#, Format::Json, &mapping("json", "")).expect("read");
        assert_eq!(ids(&truncated), ["a"]);
        assert!(truncated.problems.iter().any(|p| p.record == Some(2) && p.message.contains("truncated")));
        let lines = read(
            b"{\"id\": \"x\", \"title\": \"X\"}\n\n{oops}\n{\"id\": \"z\", \"title\": \"Z\"}\n",
            Format::Jsonl,
            &mapping("jsonl", ""),
        )
        .expect("read");
        assert_eq!(ids(&lines), ["x", "z"]);
        assert_eq!(lines.problems[0].record, Some(2));
        assert!(lines.problems[0].message.starts_with("line 3:"));
    }

    #[test]
    fn mg7_xml_records_flatten_children_and_survive_a_broken_neighbour() {
        let xml = "<feed><item id=\"7\"><id>a</id><title>A</title><tag>x</tag><tag>y</tag><body><p>Hi <b>there</b></p></body><author><email>e@x.kz</email></author></item><item><id>b</id><title>B &amp; C</title></item></feed>";
        let m = mapping("xml", "record = \"item\"");
        let r = read(xml.as_bytes(), Format::Xml, &m).expect("read");
        assert_eq!(ids(&r), ["a", "b"]);
        let a = &r.records[0];
        assert_eq!(a.get("@id"), Some(&Value::String("7".into())));
        assert_eq!(a.get("tag"), Some(&serde_json::json!(["x", "y"])));
        assert_eq!(a.text("body").expect("text").as_deref(), Some("<p>Hi <b>there</b></p>"));
        assert_eq!(a.text("author/email").expect("text").as_deref(), Some("e@x.kz"));
        assert_eq!(r.records[1].text("title").expect("text").as_deref(), Some("B & C"));
        let broken = "<feed><item><id>a</id><title>A</title></item><item><id>b</id><title>B</tile></item><item><id>c</id><title>C</title></item></feed>";
        let r = read(broken.as_bytes(), Format::Xml, &m).expect("read");
        assert_eq!(ids(&r), ["a", "c"]);
        let p = r.problems.iter().find(|p| p.record.is_some()).expect("record problem");
        assert_eq!((p.record, p.id.as_deref()), (Some(2), Some("b")));
        let none = read(b"<feed><entry/></feed>", Format::Xml, &m).expect("read");
        assert!(none.problems[0].message.contains("no <item> record elements"));
    }
}
