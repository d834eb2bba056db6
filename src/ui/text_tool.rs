//! The Text tool's commands: choosing it searches the photo's text lines in the background
//! (the first time also loads the text models); a clicked line, or "Mask all text", is marked
//! as one undo step, grown by the margin. The canvas part (outlines, hover, clicks) is
//! `canvas::text`.

use image::RgbaImage;

use super::app::App;
use super::canvas::Tool;
use super::document::TextScan;
use super::work::Msg;
use crate::mask::Combine;

/// The Text tool was chosen: search the photo's text unless that was done (or is under way).
pub(crate) fn choose(app: &mut App) {
    app.canvas.tool = Tool::Text;
    find(app);
}

/// Starts the search of the current photo's text lines when it has not run yet (or failed).
fn find(app: &mut App) {
    let Some(doc) = app.document.current_mut() else {
        return;
    };
    if matches!(doc.text, TextScan::Finding | TextScan::Found(_)) {
        return;
    }
    doc.text = TextScan::Finding;
    let image = doc.image.clone();
    app.status
        .busy("Finding the text lines (the first time also loads the text models)…");
    app.worker.thread(move || {
        let lines = crate::text::reader()
            .and_then(|reader| reader.read(&image, crate::text::Script::Latin))
            .map_err(|e| e.to_string())
            .map(|lines| {
                let styles = lines
                    .iter()
                    .map(|l| crate::local::restyle::describe_line(&image, l))
                    .collect();
                (lines, styles)
            });
        Msg::TextFound(image, lines)
    });
}

/// The search finished (dropped when another photo is open by now).
pub(crate) fn found(
    app: &mut App,
    image: &std::sync::Arc<RgbaImage>,
    lines: super::work::TextLines,
) {
    app.status.done();
    let Some(doc) = app.document.current_mut() else {
        return;
    };
    if !std::sync::Arc::ptr_eq(&doc.image, image) {
        return;
    }
    match lines {
        Ok((lines, styles)) => {
            let n = lines.len();
            doc.text = TextScan::Found(std::sync::Arc::new(lines));
            doc.text_styles = styles;
            app.status.info(match n {
                0 => "No text was found in this photo.".to_string(),
                1 => "Found 1 text line: click it to mask it (Alt+click unmasks).".to_string(),
                n => format!(
                    "Found {n} text lines: click one to mask it (Alt+click unmasks), or \
                     \"Mask all text\"."
                ),
            });
        }
        Err(e) => {
            doc.text = TextScan::Failed(e.clone());
            app.status
                .error(format!("The text in this photo could not be read: {e}"));
        }
    }
}

/// Marks (or unmarks) the chosen lines, grown by the margin, as one undo step.
pub(crate) fn mark(app: &mut App, lines: &[usize], combine: Combine) {
    let Some(doc) = app.document.current() else {
        return;
    };
    let found = doc.text.lines();
    let boxes: Vec<crate::text::TextBox> = lines
        .iter()
        .filter_map(|&i| found.get(i).map(|l| l.area.clone()))
        .collect();
    if boxes.is_empty() {
        return;
    }
    let margin = app.settings.text_margin.max(0.0);
    let label = match (combine, boxes.len()) {
        (Combine::Add, 1) => "Mask text line",
        (Combine::Add, _) => "Mask all text",
        (Combine::Subtract, _) => "Unmask text line",
    };
    app.document.edit_mask(|ed| {
        let area = crate::text::outline_bounds(&boxes, margin, ed.mask())?;
        ed.apply(label, Some(area), |mask| {
            crate::text::mark_boxes(mask, &boxes, margin, combine)
        })
    });
}

/// "Mask all text": every line found (the search starts first when it has not run).
pub(crate) fn mark_all(app: &mut App) {
    let Some(doc) = app.document.current() else {
        return;
    };
    match &doc.text {
        TextScan::Found(lines) if lines.is_empty() => {
            app.status.info("No text was found in this photo.");
        }
        TextScan::Found(lines) => {
            // Only what is probably lettering; the rest is shown dimmed, clickable on purpose.
            let likely: Vec<usize> = (0..lines.len())
                .filter(|&i| super::canvas::text::likely_text(&lines[i]))
                .collect();
            let left_out = lines.len() - likely.len();
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            let message = match (likely.len(), left_out) {
                (0, n) => format!(
                    "None of the {n} box{} found reads as text; click one (dimmed) to mask it \
                     anyway.",
                    if n == 1 { "" } else { "es" }
                ),
                (k, 0) => format!("Masked {k} text line{}.", plural(k)),
                (k, n) => format!(
                    "Masked {k} text line{}; left out {n} box{} that probably {} not text \
                     (dimmed: click one to mask it anyway).",
                    plural(k),
                    if n == 1 { "" } else { "es" },
                    if n == 1 { "is" } else { "are" }
                ),
            };
            mark(app, &likely, Combine::Add);
            app.status.info(message);
        }
        TextScan::Finding => app
            .status
            .info("The text lines are still being searched; try again in a moment."),
        TextScan::NotStarted | TextScan::Failed(_) => {
            app.status.info(
                "Searching the text lines first; choose \"Mask all text\" again when they \
                 are outlined.",
            );
            choose(app);
        }
    }
}
