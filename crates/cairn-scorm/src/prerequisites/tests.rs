//! Table tests of the prerequisites language and of outline locks.

use super::outline::*;
use super::parser::*;
use super::*;
use LessonStatus::*;

#[test]
fn scripts_parse_with_precedence_brackets_and_leniencies() {
    // (script, the fully bracketed form)
    let cases = [
        ("a", "a"),
        ("a & b", "(a & b)"),
        ("a|b&c", "(a | (b & c))"),
        ("a & b | c & d", "((a & b) | (c & d))"),
        ("(a|b)&c", "((a | b) & c)"),
        ("a & b & c | d", "((a & b & c) | d)"),
        ("~a & b", "(~a & b)"),
        ("~(a & b)", "~(a & b)"),
        ("~~a", "~~a"),
        ("((a))", "a"),
        ("  a\t&\n b ", "(a & b)"),
        (r#"a = "completed""#, r#"a = "completed""#),
        (r#"a<>"passed""#, r#"a <> "passed""#),
        ("a = 'P'", r#"a = "passed""#),
        ("a = c", r#"a = "completed""#),
        ("a=F|b=i|c=B", r#"(a = "failed" | b = "incomplete" | c = "browsed")"#),
        (r#"a = "Not  Attempted""#, r#"a = "not attempted""#),
        ("a = n", r#"a = "not attempted""#),
        ("a = not attempted & b", r#"(a = "not attempted" & b)"#),
        ("~a = p", r#"~a = "passed""#),
        ("2*{a, b, c}", "2*{a, b, c}"),
        ("1*{a & b, c} | d", "(1*{(a & b), c} | d)"),
        ("0*{a}", "0*{a}"),
        // English words, as real packages write them.
        ("module1 AND module2", "(module1 & module2)"),
        ("(module1 AND module2) OR module3", "((module1 & module2) | module3)"),
        ("NOT a and b", "(~a & b)"),
        ("not not a", "~~a"),
        // Words are operators only where an operator fits; elsewhere they are items.
        (r#"NOT = "passed""#, r#"NOT = "passed""#),
        ("a & or", "(a & or)"),
        ("and", "and"),
        // Identifiers are anything up to an operator, digits alone included.
        ("1.2-intro & SCO:01 & x_y", "(1.2-intro & SCO:01 & x_y)"),
        ("10", "10"),
    ];
    for (script, expected) in cases {
        match parse(script) {
            Ok(expr) => assert_eq!(expr.to_string(), expected, "{script:?}"),
            Err(error) => panic!("{script:?} should parse: {error}"),
        }
    }
}

#[test]
fn english_operator_words_are_noted() {
    let cases: [(&str, &[&str]); 4] =
        [("a & b", &[]), ("a AND b Or c", &["AND", "Or"]), ("NOT a", &["NOT"]), ("NOT = p & and", &[])];
    for (script, words) in cases {
        assert_eq!(parse_script(script).unwrap().word_operators, words, "{script:?}");
    }
}

#[test]
fn errors_say_what_and_where() {
    let unexpected =
        |found: &str, column, expected| PrerequisiteError::Unexpected { found: found.to_owned(), column, expected };
    let end = |column, expected| PrerequisiteError::UnexpectedEnd { column, expected };
    let cases = [
        ("", PrerequisiteError::Empty),
        ("   ", PrerequisiteError::Empty),
        ("a &", end(4, OPERAND)),
        ("a b", unexpected("`b`", 3, "`&`, `|` or the end of the script")),
        ("(a | b", end(7, "`)`, `&` or `|`")),
        ("a)", unexpected("`)`", 2, "`&`, `|` or the end of the script")),
        ("& a", unexpected("`&`", 1, OPERAND)),
        ("~", end(2, OPERAND)),
        ("()", unexpected("`)`", 2, OPERAND)),
        (r#"a = "done""#, PrerequisiteError::UnknownStatus { value: "done".into(), column: 5 }),
        ("a = x", PrerequisiteError::UnknownStatus { value: "x".into(), column: 5 }),
        ("a = ", end(5, "a lesson status such as \"completed\"")),
        ("a = &", unexpected("`&`", 5, "a lesson status such as \"completed\"")),
        (r#"a = "passed"#, PrerequisiteError::UnclosedQuote { column: 5 }),
        (
            "a < b",
            unexpected("`<`", 3, "an identifier, an operator or a bracket (`<>` is the only comparison besides `=`)"),
        ),
        (
            "a => b",
            unexpected("`>`", 4, "an identifier, an operator or a bracket (`<>` is the only comparison besides `=`)"),
        ),
        ("4*{a, b}", PrerequisiteError::CountTooLarge { count: "4".into(), members: 2, column: 1 }),
        (
            "99999999999999999999999*{a}",
            PrerequisiteError::CountTooLarge { count: "99999999999999999999999".into(), members: 1, column: 1 },
        ),
        ("2*(a, b)", unexpected("`(`", 3, "`{` after `N*`")),
        ("2*{a b}", unexpected("`b`", 6, "`,` or `}`")),
        ("2*{}", unexpected("`}`", 4, OPERAND)),
        ("2*{a,", end(6, OPERAND)),
        // Columns count characters, not bytes.
        ("été & )", unexpected("`)`", 7, OPERAND)),
    ];
    for (script, expected) in cases {
        let error = parse(script).expect_err(script);
        assert_eq!(error, expected, "{script:?}");
        assert_eq!(error.column(), expected.column());
    }
    let message = parse("a b").unwrap_err().to_string();
    assert_eq!(message, "unexpected `b` at character 3; expected `&`, `|` or the end of the script");
}

#[test]
fn nesting_is_bounded_but_long_chains_are_not() {
    let brackets = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
    let cases = [
        (brackets(MAX_DEPTH), None),
        (brackets(MAX_DEPTH + 1), Some(MAX_DEPTH + 1)),
        (format!("{}a", "~".repeat(MAX_DEPTH)), None),
        (format!("{}a", "~".repeat(MAX_DEPTH + 1)), Some(MAX_DEPTH + 1)),
        (format!("{}a{}", "1*{".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH)), None),
        (format!("{}a{}", "1*{".repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1)), Some(MAX_DEPTH * 3 + 3)),
        (format!("{}a{}", "(~".repeat(MAX_DEPTH / 2 + 1), ")".repeat(MAX_DEPTH / 2 + 1)), Some(MAX_DEPTH + 1)),
        // Depth is given back when a bracket closes.
        (vec![brackets(MAX_DEPTH); 3].join(" & "), None),
        (vec!["a"; 10_000].join(" & "), None),
    ];
    for (script, too_deep_at) in cases {
        let result = parse(&script);
        match too_deep_at {
            None => assert!(result.is_ok(), "{}…: {result:?}", &script[..20.min(script.len())]),
            Some(column) => assert_eq!(result, Err(PrerequisiteError::TooDeep { column })),
        }
    }
}

fn statuses(id: &str) -> Option<LessonStatus> {
    match id {
        "a" => Some(Passed),
        "b" => Some(Completed),
        "c" => Some(Failed),
        "d" => Some(Incomplete),
        "e" => Some(Browsed),
        "f" => Some(NotAttempted),
        _ => None,
    }
}

#[test]
fn scripts_evaluate_against_statuses() {
    // a passed, b completed, c failed, d incomplete, e browsed, f not attempted, zz unknown
    let cases = [
        ("a", true),
        ("b", true),
        ("c", false),
        ("d", false),
        ("e", false),
        ("f", false),
        ("zz", false),
        ("a & b", true),
        ("a & c", false),
        ("a | c", true),
        ("c | d", false),
        ("~c", true),
        ("~zz", true),
        ("~a | b", true),
        ("~(a | b)", false),
        ("c | a & b", true),
        ("(c | a) & d", false),
        ("c & d | a", true),
        ("c & (d | a)", false),
        (r#"c = "failed""#, true),
        ("c <> f", false),
        ("a = completed", false),
        ("a <> c", true),
        ("e = B", true),
        ("d = 'incomplete'", true),
        (r#"zz = "not attempted""#, true),
        ("f = n & zz <> p", true),
        ("2*{a, b, c}", true),
        ("3*{a, b, c}", false),
        ("0*{c}", true),
        ("1*{c, d, e = b}", true),
        ("2*{c, d, e = b}", false),
        ("module_a AND a", false),
    ];
    for (script, expected) in cases {
        assert_eq!(parse(script).unwrap().evaluate(statuses), expected, "{script:?}");
    }
}

#[test]
fn identifiers_are_listed_once_in_order() {
    let expr = parse(r#"a & (b | ~a) & 2*{c, b = "p", d <> f}"#).unwrap();
    assert_eq!(expr.identifiers(), ["a", "b", "c", "d"]);
}

#[test]
fn statuses_read_in_full_and_by_letter() {
    let cases = [
        ("passed", Some(Passed)),
        ("P", Some(Passed)),
        ("Completed", Some(Completed)),
        ("c", Some(Completed)),
        ("FAILED", Some(Failed)),
        ("i", Some(Incomplete)),
        ("browsed", Some(Browsed)),
        (" not attempted ", Some(NotAttempted)),
        ("N", Some(NotAttempted)),
        ("notattempted", None),
        ("done", None),
        ("", None),
    ];
    for (text, expected) in cases {
        assert_eq!(LessonStatus::parse(text), expected, "{text:?}");
    }
}

#[test]
fn clusters_roll_their_items_up() {
    let cases: [(&[LessonStatus], LessonStatus); 8] = [
        (&[], NotAttempted),
        (&[Passed, Passed], Passed),
        (&[Passed, Completed], Completed),
        (&[Passed, Failed], Failed),
        (&[NotAttempted, NotAttempted], NotAttempted),
        (&[Passed, NotAttempted], Incomplete),
        (&[Browsed], Incomplete),
        (&[Completed, Incomplete], Incomplete),
    ];
    for (children, expected) in cases {
        assert_eq!(rollup(children.iter().copied()), expected, "{children:?}");
    }
}

/// The items of a one-organisation SCORM 1.2 manifest.
fn outline(items: &str) -> Vec<Item> {
    let xml = format!(
        r#"<manifest identifier="m" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"><metadata><schemaversion>1.2</schemaversion></metadata>
<organizations default="o"><organization identifier="o"><title>T</title>{items}</organization></organizations>
<resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="a.html"/></resources></manifest>"#
    );
    let package = crate::manifest::parse(xml.as_bytes(), "").package.expect("a package");
    package.organizations.into_iter().next().expect("an organisation").items
}

/// A launchable item, with prerequisites when `script` is given.
fn sco(id: &str, script: Option<&str>) -> String {
    let prerequisites = script
        .map(|s| format!(r#"<adlcp:prerequisites type="aicc_script">{s}</adlcp:prerequisites>"#))
        .unwrap_or_default();
    format!(r#"<item identifier="{id}" identifierref="r"><title>{id}</title>{prerequisites}</item>"#)
}

#[test]
fn locked_items_follow_statuses_and_clusters() {
    let items = outline(&format!(
        r#"{}{}{}<item identifier="extra"><title>Extra</title><adlcp:prerequisites type="aicc_script">quiz</adlcp:prerequisites>{}</item><item identifier="part"><title>Part</title>{}{}</item>{}"#,
        sco("intro", None),
        sco("lesson", Some("intro")),
        sco("quiz", Some("intro &amp; lesson")),
        sco("bonus", None),
        sco("x", None),
        sco("y", None),
        sco("final", Some("part")),
    ));
    let gates = Outline::new(&items);
    assert_eq!(gates.findings(), []);
    type Case<'a> = (&'a [(&'a str, LessonStatus)], &'a [(&'a str, &'a [&'a str])]);
    let cases: [Case<'_>; 6] = [
        (
            &[],
            &[
                ("bonus", &["quiz"]),
                ("extra", &["quiz"]),
                ("final", &["part"]),
                ("lesson", &["intro"]),
                ("quiz", &["intro", "lesson"]),
            ],
        ),
        (
            &[("intro", Completed)],
            &[("bonus", &["quiz"]), ("extra", &["quiz"]), ("final", &["part"]), ("quiz", &["lesson"])],
        ),
        // Failed and browsed are not done.
        (
            &[("intro", Passed), ("lesson", Browsed), ("quiz", Failed)],
            &[("bonus", &["quiz"]), ("extra", &["quiz"]), ("final", &["part"]), ("quiz", &["lesson"])],
        ),
        // A cluster is done when all its items are.
        (&[("intro", Passed), ("lesson", Passed), ("quiz", Passed), ("x", Completed)], &[("final", &["part"])]),
        (&[("intro", Passed), ("lesson", Passed), ("quiz", Passed), ("x", Completed), ("y", Passed)], &[]),
        // Unknown items in the statuses change nothing.
        (
            &[("intro", Passed), ("elsewhere", Failed)],
            &[("bonus", &["quiz"]), ("extra", &["quiz"]), ("final", &["part"]), ("quiz", &["lesson"])],
        ),
    ];
    for (given, expected) in cases {
        let status = |id: &str| given.iter().find(|(i, _)| *i == id).map(|(_, s)| *s);
        let locked = gates.locked(status);
        let expected: BTreeMap<String, Vec<String>> = expected
            .iter()
            .map(|(id, waiting)| (id.to_string(), waiting.iter().map(|w| w.to_string()).collect()))
            .collect();
        assert_eq!(locked, expected, "{given:?}");
    }
}

#[test]
fn faulty_scripts_are_reported_and_leave_their_item_open() {
    let items = outline(&format!(
        r#"{}{}{}{}{}{}{}{}<item identifier="k"><title>K</title><adlcp:prerequisites type="aicc_script">k1</adlcp:prerequisites>{}</item>{}{}{}<item identifier="odd" identifierref="r"><title>Odd</title><adlcp:prerequisites type="sequencing">a</adlcp:prerequisites></item>"#,
        sco("a", None),
        sco("bad", Some("a &amp;")),
        sco("unknown", Some("a | ghost | ghost2")),
        sco("self", Some("self")),
        sco("loop1", Some("loop2")),
        sco("loop2", Some("loop1 &amp; a")),
        sco("words", Some("a AND self")),
        sco("remedial", Some(r#"a = "failed""#)),
        sco("k1", None),
        sco("never", Some(r#"a = "passed" &amp; a = "failed""#)),
        sco("after_loop", Some("loop1")),
        sco("after_self", Some("~self")),
    ));
    let gates = Outline::new(&items);
    let expected = vec![
        Finding::Invalid {
            item: "bad".into(),
            script: "a &".into(),
            error: PrerequisiteError::UnexpectedEnd { column: 4, expected: OPERAND },
        },
        Finding::UnknownItems { item: "unknown".into(), names: vec!["ghost".into(), "ghost2".into()] },
        Finding::Unsatisfiable { item: "self".into() },
        // The cycle is broken at its first item; loop2 keeps waiting on loop1.
        Finding::Unsatisfiable { item: "loop1".into() },
        // It waits on `self`, which opens once its own script is ignored, so it is kept.
        Finding::WordOperators { item: "words".into(), words: vec!["AND".into()] },
        // A cluster waiting on its own item.
        Finding::Unsatisfiable { item: "k".into() },
        Finding::UnsupportedType { item: "odd".into(), kind: "sequencing".into() },
    ];
    assert_eq!(gates.findings(), expected);
    assert!(expected.iter().filter(|f| f.item() != "words").all(Finding::ignores_script));
    assert!(!expected[4].ignores_script());
    let locked: Vec<String> = gates.locked(|_| None).into_keys().collect();
    // Items waiting on the reported ones lock as usual. `never` contradicts itself, which
    // the check does not see (it judges each comparison on its own).
    assert_eq!(locked, ["after_loop", "loop2", "never", "remedial", "words"]);
    let locked: Vec<String> = gates.locked(|id| (id == "a").then_some(Failed)).into_keys().collect();
    assert_eq!(locked, ["after_loop", "loop2", "never", "words"]);
    let locked: Vec<String> =
        gates.locked(|id| ["a", "loop1", "self"].contains(&id).then_some(Passed)).into_keys().collect();
    assert_eq!(locked, ["after_self", "never", "remedial"]);
}

#[test]
fn rules_on_clusters_and_inside_them_that_can_never_be_met_are_found() {
    // (items, the items whose rules are reported as never met)
    let cases = [
        // An item waiting on the cluster it is in: the cluster is done only when it is.
        (
            format!(r#"<item identifier="p"><title>P</title>{}{}</item>"#, sco("x", None), sco("y", Some("p"))),
            vec!["y"],
        ),
        // ... but waiting on a sibling is fine, and so is a cluster being merely started.
        (format!(r#"<item identifier="p"><title>P</title>{}{}</item>"#, sco("x", None), sco("y", Some("x"))), vec![]),
        (
            format!(r#"<item identifier="p"><title>P</title>{}{}</item>"#, sco("x", None), sco("y", Some("p = i"))),
            vec![],
        ),
        // A cluster rolled up from locked items can still fail.
        (
            format!(r#"<item identifier="p"><title>P</title>{}</item>{}"#, sco("x", None), sco("z", Some("p = f"))),
            vec![],
        ),
        // Three items in a ring: broken once, at the first.
        (format!("{}{}{}", sco("r1", Some("r3")), sco("r2", Some("r1")), sco("r3", Some("r2"))), vec!["r1"]),
        // Sets count what could be met.
        (format!("{}{}", sco("s1", None), sco("s2", Some("2*{s1, s2}"))), vec!["s2"]),
        (format!("{}{}", sco("s1", None), sco("s2", Some("1*{s1, s2}"))), vec![]),
        (format!("{}{}", sco("s1", None), sco("s2", Some("~1*{s2}"))), vec![]),
    ];
    for (items, expected) in cases {
        let gates = Outline::new(&outline(&items));
        let never: Vec<&str> =
            gates.findings().iter().filter(|f| matches!(f, Finding::Unsatisfiable { .. })).map(Finding::item).collect();
        assert_eq!(never, expected, "{items}");
    }
}

#[test]
fn large_outlines_are_checked_in_proportion_to_their_size() {
    // Each shape would take minutes if any step went over the outline once per item:
    // a chain written backwards, a ring, many small cycles, items waiting on themselves,
    // and thousands of items in one cluster all waiting on it.
    const N: usize = 4_000;
    let id = |i: usize| format!("i{i}");
    let shapes: Vec<(&str, String, usize)> = vec![
        ("chain", (0..N).map(|i| sco(&id(i), (i + 1 < N).then(|| id(i + 1)).as_deref())).collect(), 0),
        ("ring", (0..N).map(|i| sco(&id(i), Some(&id((i + 1) % N)))).collect(), 1),
        // Beyond CYCLE_ROUNDS cycles, both items of the remaining pairs are dropped at once.
        ("pairs", (0..N).map(|i| sco(&id(i), Some(&id(i ^ 1)))).collect(), N - CYCLE_ROUNDS),
        ("selves", (0..N).map(|i| sco(&id(i), Some(&id(i)))).collect(), N),
        (
            "cluster",
            format!(
                r#"<item identifier="c"><title>C</title>{}</item>"#,
                (0..N).map(|i| sco(&id(i), Some("c"))).collect::<String>()
            ),
            N,
        ),
    ];
    for (shape, items, never) in shapes {
        let started = std::time::Instant::now();
        let gates = Outline::new(&outline(&items));
        let found = gates.findings().iter().filter(|f| matches!(f, Finding::Unsatisfiable { .. })).count();
        assert_eq!(found, never, "{shape}");
        let locked = gates.locked(|_| None);
        assert!(locked.len() < N, "{shape}: something is open");
        assert!(started.elapsed().as_secs() < 20, "{shape} took {:?}", started.elapsed());
    }
}

#[test]
fn errors_quote_at_most_the_start_of_long_text() {
    let long = "x".repeat(10_000);
    let message = parse(&format!("a {long}")).unwrap_err().to_string();
    assert!(message.starts_with(&format!("unexpected `{}…` at character 3", "x".repeat(40))), "{message}");
    let message = parse(&format!("a = \"{long}\"")).unwrap_err().to_string();
    assert!(message.len() < 300, "{message}");
}
