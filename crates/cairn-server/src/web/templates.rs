//! Handlebars templates embedded in the binary. Debug builds read them from disk when the
//! server starts, so an edited page needs a restart but no rebuild.

use handlebars::Handlebars;
use rust_embed::RustEmbed;
use serde::Serialize;

use super::errors::HttpError;

#[derive(RustEmbed)]
#[folder = "../../frontend/templates/"]
#[include = "*.hbs"]
struct TemplateFiles;

/// The registered templates, by path without `.hbs` (e.g. `pages/login`).
pub struct Templates {
    registry: Handlebars<'static>,
}

#[derive(Debug, thiserror::Error)]
#[error("template {name}: {message}")]
pub struct TemplateError {
    pub name: String,
    pub message: String,
}

impl Templates {
    /// Registers every embedded template. Strict mode makes a missing field an error
    /// instead of a silent blank, so tests catch it.
    pub fn load() -> Result<Templates, TemplateError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        for path in TemplateFiles::iter() {
            let file = TemplateFiles::get(&path)
                .ok_or_else(|| TemplateError { name: path.to_string(), message: "vanished".into() })?;
            let text = std::str::from_utf8(&file.data)
                .map_err(|e| TemplateError { name: path.to_string(), message: e.to_string() })?;
            let name = path.trim_end_matches(".hbs").to_string();
            registry
                .register_template_string(&name, text)
                .map_err(|e| TemplateError { name: name.clone(), message: e.to_string() })?;
        }
        registry.register_helper("eq", Box::new(eq_helper));
        Ok(Templates { registry })
    }

    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<String, HttpError> {
        self.registry
            .render(name, context)
            .map_err(|e| HttpError::internal(&TemplateError { name: name.into(), message: e.to_string() }))
    }
}

handlebars::handlebars_helper!(eq_helper: |a: Json, b: Json| a == b);
