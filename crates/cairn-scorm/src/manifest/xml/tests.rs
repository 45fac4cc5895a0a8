//! Tests for decoding and parsing manifest text.

use super::*;

fn root_of(bytes: &[u8]) -> Node {
    parse(bytes).unwrap().root
}

#[test]
fn encodings_are_decoded_before_parsing() {
    let title = "Caf\u{e9}";
    let utf8 = format!("<m><t>{title}</t></m>").into_bytes();
    let bom = [b"\xEF\xBB\xBF".as_slice(), &utf8].concat();
    let latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><m><t>Caf\xe9</t></m>".to_vec();
    let lying = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><m><t>Caf\xe9</t></m>".to_vec();
    let utf16le: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain("<m><t>Caf\u{e9}</t></m>".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let utf16be_no_bom: Vec<u8> = "<m><t>Caf\u{e9}</t></m>".encode_utf16().flat_map(u16::to_be_bytes).collect();
    let cases = [
        ("utf-8", utf8, false),
        ("bom", bom, false),
        ("latin-1", latin1, false),
        ("utf-8 that is not", lying, true),
        ("utf-16le with bom", utf16le, false),
        ("utf-16be without bom", utf16be_no_bom, false),
    ];
    for (what, bytes, fallback) in cases {
        let document = parse(&bytes).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert_eq!(document.root.children[0].text, title, "{what}");
        assert_eq!(document.encoding_fallback, fallback, "{what}");
    }
}

#[test]
fn namespaces_are_resolved_whatever_the_prefix() {
    let root = root_of(
        br#"<cp:manifest xmlns:cp="urn:cp" xmlns:x="urn:adl" xml:base="b/">
              <cp:item x:type="sco" plain="1"/>
              <other xmlns="urn:default"/>
            </cp:manifest>"#,
    );
    assert_eq!(root.name, "manifest");
    assert_eq!(root.namespace.as_deref(), Some("urn:cp"));
    assert_eq!(root.attr_ns(XML_NAMESPACE, "base"), Some("b/"));
    let item = &root.children[0];
    assert_eq!(item.attr_ns("urn:adl", "type"), Some("sco"));
    assert_eq!(item.attr("plain"), Some("1"));
    assert_eq!(root.children[1].namespace.as_deref(), Some("urn:default"));
}

#[test]
fn positions_are_one_based_lines_and_columns() {
    let root = root_of(b"<?xml version=\"1.0\"?>\n<m>\n  <a/>\n   <b>x</b></m>");
    let at: Vec<(String, u32, u32)> =
        std::iter::once(&root).chain(root.children.iter()).map(|n| (n.name.clone(), n.line, n.column)).collect();
    assert_eq!(at, vec![("m".to_owned(), 2, 1), ("a".to_owned(), 3, 3), ("b".to_owned(), 4, 4)]);
}

#[test]
fn bad_documents_are_reported() {
    let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
    type Case<'a> = (&'a str, Vec<u8>, Option<(u32, u32)>);
    let cases: Vec<Case<'_>> = vec![
        ("declaration only", b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".to_vec(), None),
        ("empty", Vec::new(), None),
        ("comment only", b"<!-- nothing -->".to_vec(), None),
        ("mismatched end", b"<m>\n  <a></b>\n</m>".to_vec(), Some((2, 6))),
        ("unclosed", b"<m>\n<a>".to_vec(), Some((2, 1))),
        ("two roots", b"<m/><n/>".to_vec(), Some((1, 5))),
        ("text outside", b"<m/>junk".to_vec(), Some((1, 5))),
        ("too deep", deep.into_bytes(), Some((1, 601))),
    ];
    for (what, bytes, position) in cases {
        let problem = parse(&bytes).expect_err(what);
        match (problem, position) {
            (XmlProblem::Empty, None) => {}
            (XmlProblem::Malformed { line, column, .. }, Some(expected)) => {
                assert_eq!((line, column), expected, "{what}")
            }
            (other, _) => panic!("{what}: unexpected {other:?}"),
        }
    }
}

#[test]
fn doctype_entities_are_never_expanded() {
    let document = parse(br#"<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><m a="&x;">&x;&amp;</m>"#).unwrap();
    assert!(document.unknown_entity);
    assert_eq!(document.root.attr("a"), Some("&x;"));
    assert!(!document.root.text.contains("root:"));
}
