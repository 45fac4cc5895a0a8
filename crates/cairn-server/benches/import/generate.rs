//! The generated SCORM 1.2 package: a valid manifest and a mix of compressible and incompressible files.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::*;
// ---------------------------------------------------------------------------------------
// The generated package

/// The number of files and the sum of their uncompressed sizes, from the central directory.
pub(crate) fn zip_contents(path: &Path) -> io::Result<(usize, u64)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path)?).map_err(io::Error::other)?;
    let (mut files, mut bytes) = (0, 0);
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(io::Error::other)?;
        if !entry.is_dir() {
            files += 1;
            bytes += entry.size();
        }
    }
    Ok((files, bytes))
}

pub(crate) const SCOS: usize = 5;

/// Writes a SCORM 1.2 package whose files add up to about `size` bytes: 30 % text (HTML,
/// JS, CSS; deflated), 40 % images (random bytes, deflated), 30 % video (random, stored).
pub(crate) fn generate(path: &Path, size: u64) -> io::Result<()> {
    let partial = path.with_extension("zip.partial");
    let mut rng = StdRng::seed_from_u64(SEED ^ size);
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, std::fs::File::create(&partial)?));
    let base = SimpleFileOptions::default().last_modified_time(DateTime::default()).unix_permissions(0o644);
    let deflated = base.compression_method(CompressionMethod::Deflated).compression_level(Some(6));
    let stored = base.compression_method(CompressionMethod::Stored);
    let dir_options = base.unix_permissions(0o755);
    let zip_err = io::Error::other;

    let text_budget = size * 3 / 10;
    let image_budget = size * 4 / 10;
    let video_budget = size - text_budget - image_budget;
    let text_files = (text_budget / 32_000).clamp(200, 3_000);
    let image_files = (image_budget / 200_000).clamp(40, 1_500);
    let video_files = video_budget.div_ceil(16 * MB).max(1);
    let (text_avg, image_avg, video_each) =
        (text_budget / text_files, image_budget / image_files, video_budget / video_files);

    zip.start_file("imsmanifest.xml", deflated).map_err(zip_err)?;
    zip.write_all(manifest().as_bytes())?;
    let mut folders = vec!["shared/".to_string(), "shared/js/".into(), "shared/css/".into(), "shared/video/".into()];
    for sco in 1..=SCOS {
        folders.extend([format!("sco_{sco}/"), format!("sco_{sco}/pages/"), format!("sco_{sco}/media/")]);
    }
    for folder in &folders {
        zip.add_directory(folder.as_str(), dir_options).map_err(zip_err)?;
    }
    for sco in 1..=SCOS {
        zip.start_file(format!("sco_{sco}/index.html"), deflated).map_err(zip_err)?;
        zip.write_all(&text(&mut rng, 4_000, Kind::Html))?;
    }
    let around = |rng: &mut StdRng, avg: u64| rng.gen_range(avg / 2..=avg + avg / 2).max(1) as usize;
    for i in 0..text_files {
        let (name, kind) = match i % 10 {
            0 | 1 => (format!("shared/js/module_{i:05}.js"), Kind::Js),
            2 => (format!("shared/css/style_{i:05}.css"), Kind::Css),
            _ => (format!("sco_{}/pages/page_{i:05}.html", 1 + i as usize % SCOS), Kind::Html),
        };
        zip.start_file(name, deflated).map_err(zip_err)?;
        let len = around(&mut rng, text_avg);
        zip.write_all(&text(&mut rng, len, kind))?;
    }
    for i in 0..image_files {
        let ext = if i % 3 == 0 { "png" } else { "jpg" };
        zip.start_file(format!("sco_{}/media/image_{i:05}.{ext}", 1 + i as usize % SCOS), deflated).map_err(zip_err)?;
        let len = around(&mut rng, image_avg);
        write_random(&mut zip, &mut rng, len)?;
    }
    for i in 0..video_files {
        zip.start_file(format!("shared/video/clip_{i:03}.mp4"), stored).map_err(zip_err)?;
        write_random(&mut zip, &mut rng, video_each as usize)?;
    }
    zip.finish().map_err(zip_err)?.flush()?;
    std::fs::rename(&partial, path)
}

pub(crate) fn write_random(out: &mut impl Write, rng: &mut StdRng, mut len: usize) -> io::Result<()> {
    let mut chunk = vec![0u8; 1 << 20];
    while len > 0 {
        let n = len.min(chunk.len());
        rng.fill_bytes(&mut chunk[..n]);
        out.write_all(&chunk[..n])?;
        len -= n;
    }
    Ok(())
}

pub(crate) fn manifest() -> String {
    let mut items = String::new();
    let mut resources = String::new();
    for sco in 1..=SCOS {
        items.push_str(&format!(
            "      <item identifier=\"item_{sco}\" identifierref=\"res_{sco}\"><title>Lesson {sco}</title></item>\n"
        ));
        resources.push_str(&format!(
            "    <resource identifier=\"res_{sco}\" type=\"webcontent\" adlcp:scormtype=\"sco\" href=\"sco_{sco}/index.html\">\n      <file href=\"sco_{sco}/index.html\"/>\n    </resource>\n"
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="cairn-bench" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Import benchmark course</title>
{items}    </organization>
  </organizations>
  <resources>
{resources}  </resources>
</manifest>
"#
    )
}

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Html,
    Js,
    Css,
}

pub(crate) const WORDS: &[&str] = &[
    "learner",
    "course",
    "module",
    "lesson",
    "quiz",
    "answer",
    "question",
    "score",
    "progress",
    "complete",
    "safety",
    "procedure",
    "equipment",
    "training",
    "review",
    "section",
    "example",
    "practice",
    "policy",
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "for",
    "with",
    "on",
    "that",
    "this",
    "be",
    "by",
    "are",
    "as",
    "when",
    "each",
    "before",
    "after",
    "always",
    "never",
    "check",
    "report",
    "team",
    "manager",
    "site",
    "hazard",
    "control",
    "record",
    "signal",
    "level",
    "value",
    "result",
    "status",
    "interaction",
    "response",
    "correct",
    "incorrect",
    "feedback",
    "slide",
    "layer",
    "timeline",
    "trigger",
    "variable",
    "state",
];

/// About `len` bytes of text shaped like what authoring tools export: markup or code
/// around sentences, so it deflates about 3–4:1 (never near the 200:1 bomb limit).
pub(crate) fn text(rng: &mut StdRng, len: usize, kind: Kind) -> Vec<u8> {
    let mut out = String::with_capacity(len + 256);
    match kind {
        Kind::Html => out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page</title><link rel=\"stylesheet\" href=\"../../shared/css/style.css\"></head>\n<body>\n"),
        Kind::Js => out.push_str("\"use strict\";\n(function (window) {\n"),
        Kind::Css => {}
    }
    let mut n = 0u32;
    while out.len() < len {
        n += 1;
        let sentence: Vec<&str> = (0..rng.gen_range(6..18)).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
        let sentence = sentence.join(" ");
        let id: u32 = rng.gen();
        match kind {
            Kind::Html => out.push_str(&format!(
                "  <div class=\"slide-object text\" id=\"obj_{id:08x}\" data-acc-text=\"{sentence}\"><p>{sentence}.</p></div>\n"
            )),
            Kind::Js => out.push_str(&format!(
                "  window.cp_{n} = function (state) {{ if (state.{w} === {id}) {{ return \"{sentence}\"; }} return state.{w} + {m}; }};\n",
                w = WORDS[rng.gen_range(0..WORDS.len())],
                m = id % 997
            )),
            Kind::Css => out.push_str(&format!(
                ".obj_{id:08x} {{ position: absolute; left: {}px; top: {}px; width: {}px; color: #{:06x}; }} /* {sentence} */\n",
                id % 1280,
                id % 720,
                id % 400,
                id & 0xff_ffff
            )),
        }
    }
    match kind {
        Kind::Html => out.push_str("</body></html>\n"),
        Kind::Js => out.push_str("})(window);\n"),
        Kind::Css => {}
    }
    out.into_bytes()
}
