//! What an edit asks of Ideogram 3.0 Edit: the prompt, every option the model offers, and the
//! images. Validation answers per field (so a form can show each problem beside its control);
//! the Runware task JSON is built from here and read back into here.
//!
//! Every option is an `Option`: `None` means "not sent, the service's default applies", so a
//! task imported from JSON re-exports exactly as it was written.
//!
//! The parts, by what they do:
//! - `options`: the model's options (style presets, enums, limits);
//! - `request`: the request itself ([`EditRequest`], [`EditSettings`], [`ImageInput`]);
//! - `validate`: per-field validation ([`Field`], [`FieldError`], [`EditRequest::validate`]);
//! - `task`: the Runware wire task ([`InferenceTask`]), built from a request and imported back;
//! - `view`: "View request" and "Copy as cURL" text, and image payload abbreviation;
//! - `results`: the downscale offered before sending and the folder results are saved into;
//! - `area`: the edit area, the part of the photo an edit sends ([`EditArea`]).

mod area;
mod options;
mod request;
mod results;
mod task;
mod validate;
mod view;

pub use area::*;
pub use options::*;
pub use request::*;
pub use results::*;
pub use task::*;
pub use validate::*;
pub use view::*;
