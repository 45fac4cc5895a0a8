//! Native lesson pages: Markdown rendered to sanitised HTML.
//!
//! Authors write lesson pages in Markdown and may mix in raw HTML, as CommonMark allows. The
//! rendered page is shown to every learner of the course, so the HTML goes through an explicit
//! allow-list before it is stored or served: whatever is not listed here is dropped, and raw
//! HTML is cleaned rather than escaped so that harmless markup such as `<em>` keeps working.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, Url, UrlRelative};
use pulldown_cmark::{html, Options, Parser};

use crate::validate::InvalidInput;

/// Longest Markdown body accepted, in bytes. A lesson longer than this is better split into
/// several pages, and the cap keeps rendering time bounded.
pub const MAX_MARKDOWN_LEN: usize = 200_000;

/// Elements a rendered page may contain. `div` and `sup` carry footnotes and `input` the
/// check boxes of task lists; everything else is ordinary prose, lists, tables and code.
const ALLOWED_TAGS: &[&str] = &[
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "br",
    "hr",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "pre",
    "code",
    "blockquote",
    "em",
    "strong",
    "del",
    "a",
    "img",
    "sup",
    "div",
    "input",
];

/// The value `rel` gets on every link. Authors' links lead to arbitrary sites, which must not
/// gain a handle on the lesson's window nor learn which lesson the learner was reading.
const LINK_REL: &str = "noopener noreferrer";

/// Prefix given to every `id`, and to every in-page link, so that authored ids cannot clash
/// with ids of the surrounding page (DOM clobbering) while footnote links still find their notes.
const ID_PREFIX: &str = "md-";

/// Checks a Markdown body before it is stored: bounded size and no control characters other
/// than line breaks and tabs, which never belong in prose and usually mean a binary paste.
pub fn check(body: &str) -> Result<(), InvalidInput> {
    if body.len() > MAX_MARKDOWN_LEN {
        return Err(InvalidInput::new(
            "body",
            format!(
                "must be at most {MAX_MARKDOWN_LEN} bytes but is {} bytes; split the lesson into several pages",
                body.len()
            ),
        ));
    }
    for (number, line) in body.split('\n').enumerate() {
        if let Some(bad) = line.chars().find(|c| c.is_control() && !matches!(c, '\r' | '\t')) {
            return Err(InvalidInput::new(
                "body",
                format!(
                    "must not contain control characters, but line {} holds U+{:04X}; remove it or paste the text \
                     again as plain text",
                    number + 1,
                    u32::from(bad)
                ),
            ));
        }
    }
    Ok(())
}

/// Renders a Markdown body to HTML that is safe to embed in a page.
///
/// The output is safe for any input, but callers should run [`check`] first so that oversized
/// bodies are refused with a message rather than rendered slowly. Table column alignment is
/// lost, because the Markdown renderer expresses it with `style` attributes, which are refused.
pub fn render(body: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(body.len() + body.len() / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(body, options));
    SANITISER.clean(&unsafe_html).to_string()
}

/// Built once: the allow-list never changes while the process runs.
static SANITISER: LazyLock<Builder<'static>> = LazyLock::new(sanitiser);

/// The allow-list. It starts from nothing so that a new ammonia default can never widen it.
fn sanitiser() -> Builder<'static> {
    let tag_attributes: HashMap<&str, HashSet<&str>> = [
        ("a", &["href", "title"][..]),
        ("img", &["src", "alt", "title", "width", "height"][..]),
        ("ol", &["start"][..]),
        ("code", &["class"][..]),
        ("div", &["id"][..]),
        ("input", &["checked"][..]),
    ]
    .into_iter()
    .map(|(tag, attributes)| (tag, attributes.iter().copied().collect()))
    .collect();
    let allowed_classes: HashMap<&str, HashSet<&str>> =
        [("div", &["footnote-definition"][..]), ("sup", &["footnote-reference", "footnote-definition-label"][..])]
            .into_iter()
            .map(|(tag, classes)| (tag, classes.iter().copied().collect()))
            .collect();

    let mut builder = Builder::empty();
    builder
        .tags(ALLOWED_TAGS.iter().copied().collect())
        .clean_content_tags(["script", "style"].into_iter().collect())
        .generic_attributes(HashSet::new())
        .tag_attributes(tag_attributes)
        .allowed_classes(allowed_classes)
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some(LINK_REL))
        .id_prefix(Some(ID_PREFIX))
        .strip_comments(true)
        // Every input becomes a disabled check box: task lists need nothing else, and a raw
        // `<input>` in an author's HTML must not turn into a text field that collects data.
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "")
        .attribute_filter(filter_attribute);
    builder
}

/// The checks that depend on an attribute's value rather than only its name.
fn filter_attribute<'v>(element: &str, attribute: &str, value: &'v str) -> Option<Cow<'v, str>> {
    match (element, attribute) {
        // `mailto:` is fine for links but meaningless as an image source.
        ("img", "src") => match Url::parse(value) {
            Ok(url) if !matches!(url.scheme(), "http" | "https") => None,
            _ => Some(value.into()),
        },
        // Ids are prefixed by the sanitiser, so in-page links must follow suit to still match.
        ("a", "href") => match value.strip_prefix('#') {
            Some(fragment) if !fragment.starts_with(ID_PREFIX) => Some(format!("#{ID_PREFIX}{fragment}").into()),
            _ => Some(value.into()),
        },
        // Code blocks name their language for syntax highlighting; any other class is dropped.
        ("code", "class") => {
            let language = value.strip_prefix("language-")?;
            let plain = !language.is_empty()
                && language.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.'));
            plain.then(|| value.into())
        }
        _ => Some(value.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_sanitises() {
        // Each case: Markdown input, fragments the output must contain, fragments it must not.
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("# Title\n\n## Part", &["<h1>Title</h1>", "<h2>Part</h2>"], &[]),
            ("*soft* **loud** ~~gone~~", &["<em>soft</em>", "<strong>loud</strong>", "<del>gone</del>"], &[]),
            ("- one\n- two\n\n3. three", &["<ul>", "<li>one</li>", "<ol start=\"3\">"], &[]),
            (
                "| a | b |\n|:--|--:|\n| 1 | 2 |",
                &["<table>", "<thead>", "<th>a</th>", "<td>2</td>"],
                &["style", "text-align"],
            ),
            ("```rust\nfn main() {}\n```", &["<pre><code class=\"language-rust\">fn main() {}"], &[]),
            ("> quoted", &["<blockquote>", "quoted"], &[]),
            ("a\n\n---\n\nb", &["<hr>"], &[]),
            ("Hi <script>alert(1)</script> there", &["Hi", "there"], &["script", "alert"]),
            ("<img src=\"x.png\" onerror=\"alert(1)\">", &["<img src=\"x.png\">"], &["onerror", "alert"]),
            ("[bad](javascript:alert(1))", &["<a rel=\"noopener noreferrer\">bad</a>"], &["javascript"]),
            ("<a href=\"JavaScript:alert(1)\">bad</a>", &["bad"], &["avascript", "href"]),
            ("![map](/media/map.png)", &["<img src=\"/media/map.png\" alt=\"map\">"], &[]),
            (
                "![map](https://example.org/m.png \"The map\")",
                &["src=\"https://example.org/m.png\"", "title=\"The map\""],
                &[],
            ),
            ("![x](data:image/png;base64,AAAA)", &["<img alt=\"x\">"], &["data:"]),
            ("<img src=\"mailto:a@example.org\">", &["<img>"], &["mailto"]),
            (
                "[site](https://example.org) [mail](mailto:a@example.org) [page](../next)",
                &[
                    "<a href=\"https://example.org\" rel=\"noopener noreferrer\">site</a>",
                    "<a href=\"mailto:a@example.org\" rel=\"noopener noreferrer\">mail</a>",
                    "<a href=\"../next\" rel=\"noopener noreferrer\">page</a>",
                ],
                &[],
            ),
            (
                "<a href=\"/x\" rel=\"opener\" target=\"_blank\">x</a>",
                &["rel=\"noopener noreferrer\""],
                &["opener\"", "target"],
            ),
            ("<p style=\"color:red\" onclick=\"x()\">red</p>", &["<p>red</p>"], &["style", "onclick"]),
            ("<iframe src=\"https://example.org\"></iframe>", &[], &["iframe"]),
            ("<em>kept</em> <b>unwrapped</b>", &["<em>kept</em>", "unwrapped"], &["<b>"]),
            ("<!-- note --> text", &["text"], &["note", "<!--"]),
            ("- [x] done", &["<li><input ", "checked=\"\"", "type=\"checkbox\"", "disabled=\"\""], &[]),
            ("- [ ] open", &["<li><input ", "type=\"checkbox\"", "disabled=\"\""], &["checked"]),
            ("<input type=\"text\" name=\"password\">", &["type=\"checkbox\"", "disabled=\"\""], &["text", "name"]),
            (
                "Note[^1].\n\n[^1]: The note.",
                &[
                    "<sup class=\"footnote-reference\"><a href=\"#md-1\"",
                    "<div class=\"footnote-definition\" id=\"md-1\">",
                ],
                &[],
            ),
            ("<div id=\"csrf\" class=\"evil\">x</div>", &["<div id=\"md-csrf\"", ">x</div>"], &["evil"]),
            ("```\n<script>x</script>\n```", &["&lt;script&gt;"], &["<script>"]),
        ];
        for (input, wanted, unwanted) in cases {
            let html = render(input);
            for fragment in *wanted {
                assert!(html.contains(fragment), "{input:?} rendered as {html:?}, missing {fragment:?}");
            }
            for fragment in *unwanted {
                assert!(!html.contains(fragment), "{input:?} rendered as {html:?}, which holds {fragment:?}");
            }
        }
    }

    #[test]
    fn checks_bodies() {
        let at_limit = "a".repeat(MAX_MARKDOWN_LEN);
        let over_limit = "a".repeat(MAX_MARKDOWN_LEN + 1);
        let cases: &[(&str, Option<&str>)] = &[
            ("", None),
            ("# Title\r\n\tindented\n", None),
            ("ünïcödé and emoji 🙂", None),
            (&at_limit, None),
            (&over_limit, Some("at most 200000 bytes")),
            ("ok\nnul\u{0}here", Some("line 2 holds U+0000")),
            ("bell\u{7}", Some("U+0007")),
            ("c1\u{85}", Some("U+0085")),
        ];
        for (input, expected) in cases {
            let outcome = check(input);
            match expected {
                None => assert_eq!(outcome, Ok(()), "{:?}", &input[..input.len().min(40)]),
                Some(fragment) => {
                    let error = outcome.expect_err(fragment);
                    assert_eq!(error.field, "body");
                    assert!(error.reason.contains(fragment), "{error}");
                }
            }
        }
    }
}
