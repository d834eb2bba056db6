//! `touchup mask`: a mask from shapes, the magic wand, grow/shrink, the photo's text lines and
//! objects selected with a click (MobileSAM), applied in the order given on the command line.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{ArgMatches, Args};
use image::RgbaImage;
use touchup::mask::{
    Brush, BrushMode, Combine, Mask, Polarity, WandOptions, fill_holes, grow, magic_wand, shapes,
    shrink,
};
use touchup::text::{Script, TextBox, TextLine};

#[derive(Debug, Args)]
pub struct MaskArgs {
    /// The photo the mask is for (its displayed, EXIF-rotated size is the mask's size).
    #[arg(long)]
    image: PathBuf,
    /// Mark columns X..X+W-1 and rows Y..Y+H-1.
    #[arg(long, value_name = "X,Y,W,H", allow_hyphen_values = true)]
    rect: Vec<String>,
    /// Mark a polygon through at least three corners.
    #[arg(long, value_name = "X1,Y1,X2,Y2,X3,Y3...", allow_hyphen_values = true)]
    polygon: Vec<String>,
    /// A round brush of radius R along the polyline.
    #[arg(long, value_name = "R:X1,Y1,X2,Y2...", allow_hyphen_values = true)]
    stroke: Vec<String>,
    /// Magic wand: add the connected region around pixel X,Y whose colour is within TOLERANCE
    /// (OKLab ΔE x100, 0-100, default 10) of that pixel's colour.
    #[arg(long, value_name = "X,Y[:TOLERANCE]", allow_hyphen_values = true)]
    wand: Vec<String>,
    /// Grow the marked area by N pixels (round corners: dilation by a disk of radius N).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    grow: Vec<String>,
    /// Shrink the marked area by N pixels (erosion by a disk of radius N).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    shrink: Vec<String>,
    /// Mark every unmarked area enclosed by marked pixels (applied where it stands).
    #[arg(long)]
    fill_holes: bool,
    /// Swap marked and kept pixels (applied where it stands among the shapes).
    #[arg(long)]
    invert: bool,
    /// Mark every text line the detector finds (rotated boxes, grown by --text-margin).
    #[arg(long)]
    text: bool,
    /// Mark only the text lines whose reading matches STRING (case and dash insensitive, a
    /// small edit distance allowed; neighbouring boxes may be joined). Repeatable.
    #[arg(long, value_name = "STRING")]
    text_match: Vec<String>,
    /// Select the object under pixel X,Y (MobileSAM, offline; the first use encodes the photo,
    /// a few seconds). Consecutive --object, --object-exclude and --object-box flags are one
    /// prompt, added to the mask as one object; another operation in between starts a new one.
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true)]
    object: Vec<String>,
    /// A background point for the object prompt it belongs to: pixel X,Y is not part of it.
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true)]
    object_exclude: Vec<String>,
    /// A box around the object (columns X..X+W-1, rows Y..Y+H-1); one per prompt (a second box
    /// starts another object).
    #[arg(long, value_name = "X,Y,W,H", allow_hyphen_values = true)]
    object_box: Vec<String>,
    /// Pixels added around each text line marked by --text and --text-match.
    #[arg(long, value_name = "PX", default_value_t = 2.0)]
    text_margin: f32,
    /// Which colour marks the edit in the written mask.
    #[arg(
        long,
        default_value = "white-edits",
        value_name = "white-edits|black-edits"
    )]
    polarity: Polarity,
    /// Write the mask PNG here.
    #[arg(
        long,
        value_name = "MASK.png",
        conflicts_with = "data_uri",
        required_unless_present = "data_uri"
    )]
    out: Option<PathBuf>,
    /// Print only `data:image/png;base64,...` on stdout.
    #[arg(long)]
    data_uri: bool,
}

/// One operation, in command-line order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Rect(i64, i64, i64, i64),
    Polygon(Vec<(f32, f32)>),
    Stroke(f32, Vec<(f32, f32)>),
    Wand {
        x: u32,
        y: u32,
        tolerance: f32,
        text: String,
    },
    Grow(u32),
    Shrink(u32),
    FillHoles,
    Invert,
    /// Every text line, grown by the margin (px).
    Text(f32),
    /// The lines reading the string, grown by the margin (px).
    TextMatch(String, f32),
    /// A point of an object prompt: on the object (`foreground`) or not.
    ObjectPoint {
        x: u32,
        y: u32,
        foreground: bool,
        text: String,
    },
    /// A box of an object prompt (x, y, w, h).
    ObjectBox(i64, i64, i64, i64),
}

fn numbers(text: &str, what: &str) -> anyhow::Result<Vec<f64>> {
    text.split(',')
        .map(|t| {
            let t = t.trim();
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .with_context(|| format!("{what} '{text}': '{t}' is not a number"))
        })
        .collect()
}

fn points(values: &[f64]) -> Vec<(f32, f32)> {
    values
        .chunks(2)
        .map(|c| (c[0] as f32, c[1] as f32))
        .collect()
}

fn parse_rect(text: &str) -> anyhow::Result<Op> {
    let v = numbers(text, "--rect")?;
    let [x, y, w, h] = v[..] else {
        bail!("--rect '{text}': expected X,Y,W,H (four numbers)");
    };
    if v.iter().any(|n| n.fract() != 0.0) {
        bail!("--rect '{text}': use whole pixels");
    }
    if w <= 0.0 || h <= 0.0 {
        bail!("--rect '{text}': width and height must be at least 1");
    }
    Ok(Op::Rect(x as i64, y as i64, w as i64, h as i64))
}

fn parse_polygon(text: &str) -> anyhow::Result<Op> {
    let v = numbers(text, "--polygon")?;
    if v.len() < 6 || v.len() % 2 != 0 {
        bail!("--polygon '{text}': expected at least three X,Y corners");
    }
    Ok(Op::Polygon(points(&v)))
}

fn parse_stroke(text: &str) -> anyhow::Result<Op> {
    let (r, rest) = text
        .split_once(':')
        .with_context(|| format!("--stroke '{text}': expected R:X1,Y1,X2,Y2..."))?;
    let r: f32 = r
        .trim()
        .parse()
        .ok()
        .filter(|r: &f32| r.is_finite() && *r > 0.0 && *r <= Brush::MAX_SIZE / 2.0)
        .with_context(|| {
            format!("--stroke '{text}': the radius must be a number from 0.5 to 500")
        })?;
    let v = numbers(rest, "--stroke")?;
    if v.len() < 2 || v.len() % 2 != 0 {
        bail!("--stroke '{text}': expected at least one X,Y point after the radius");
    }
    Ok(Op::Stroke(r, points(&v)))
}

fn parse_wand(text: &str) -> anyhow::Result<Op> {
    let (point, tolerance) = match text.split_once(':') {
        Some((p, t)) => {
            let t: f32 = t
                .trim()
                .parse()
                .ok()
                .filter(|t: &f32| (0.0..=WandOptions::MAX_TOLERANCE).contains(t))
                .with_context(|| {
                    format!("--wand '{text}': the tolerance must be a number from 0 to 100")
                })?;
            (p, t)
        }
        None => (text, WandOptions::DEFAULT_TOLERANCE),
    };
    let v = numbers(point, "--wand")?;
    let [x, y] = v[..] else {
        bail!("--wand '{text}': expected X,Y or X,Y:TOLERANCE");
    };
    if !whole_pixel(x, y) {
        bail!("--wand '{text}': X and Y must be whole pixel positions inside the image");
    }
    Ok(Op::Wand {
        x: x as u32,
        y: y as u32,
        tolerance,
        text: text.to_string(),
    })
}

/// Whether `x, y` name a whole pixel position (non-negative integers within u32).
fn whole_pixel(x: f64, y: f64) -> bool {
    [x, y]
        .iter()
        .all(|&v| v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64)
}

fn parse_object_point(text: &str, flag: &str, foreground: bool) -> anyhow::Result<Op> {
    let v = numbers(text, flag)?;
    let [x, y] = v[..] else {
        bail!("{flag} '{text}': expected X,Y (two numbers)");
    };
    if !whole_pixel(x, y) {
        bail!("{flag} '{text}': X and Y must be whole pixel positions inside the image");
    }
    Ok(Op::ObjectPoint {
        x: x as u32,
        y: y as u32,
        foreground,
        text: text.to_string(),
    })
}

fn parse_object_box(text: &str) -> anyhow::Result<Op> {
    let v = numbers(text, "--object-box")?;
    let [x, y, w, h] = v[..] else {
        bail!("--object-box '{text}': expected X,Y,W,H (four numbers)");
    };
    if v.iter()
        .any(|n| n.fract() != 0.0 || n.abs() > u32::MAX as f64)
    {
        bail!("--object-box '{text}': use whole pixels");
    }
    if w <= 0.0 || h <= 0.0 {
        bail!("--object-box '{text}': width and height must be at least 1");
    }
    Ok(Op::ObjectBox(x as i64, y as i64, w as i64, h as i64))
}

/// A grow or shrink radius: a whole number of pixels from 1 to the largest image side.
fn parse_radius(text: &str, flag: &str) -> anyhow::Result<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=touchup::imageio::MAX_SIDE).contains(n))
        .with_context(|| {
            format!(
                "{flag} '{text}': expected a whole number of pixels from 1 to {}",
                touchup::imageio::MAX_SIDE
            )
        })
}

/// The operations a `touchup batch` manifest may name, under their flag's name.
pub(crate) const OPERATIONS: [&str; 13] = [
    "rect",
    "polygon",
    "stroke",
    "wand",
    "grow",
    "shrink",
    "fill-holes",
    "invert",
    "text",
    "text-match",
    "object",
    "object-exclude",
    "object-box",
];

/// One operation written as on the command line (`rect` and `"10,10,40,20"`); the switches
/// `fill-holes`, `invert` and `text` take no text. `text_margin` grows the text lines that
/// `text` and `text-match` mark.
pub(crate) fn parse_op(name: &str, text: &str, text_margin: f32) -> anyhow::Result<Op> {
    match name {
        "text" => Ok(Op::Text(text_margin)),
        "text-match" => {
            if touchup::text::normalise(text).is_empty() {
                bail!("text-match '{text}': give the text to look for");
            }
            Ok(Op::TextMatch(text.to_string(), text_margin))
        }
        "rect" => parse_rect(text),
        "polygon" => parse_polygon(text),
        "stroke" => parse_stroke(text),
        "wand" => parse_wand(text),
        "grow" => Ok(Op::Grow(parse_radius(text, "--grow")?)),
        "shrink" => Ok(Op::Shrink(parse_radius(text, "--shrink")?)),
        "fill-holes" => Ok(Op::FillHoles),
        "invert" => Ok(Op::Invert),
        "object" => parse_object_point(text, "object", true),
        "object-exclude" => parse_object_point(text, "object-exclude", false),
        "object-box" => parse_object_box(text),
        other => bail!(
            "'{other}' is not a mask operation; use one of {}",
            OPERATIONS.join(", ")
        ),
    }
}

/// A mask for `image` from `ops`, applied in order.
pub(crate) fn draw(image: &RgbaImage, ops: &[Op]) -> anyhow::Result<Mask> {
    let mut mask = Mask::new(image.width(), image.height());
    let patterns: Vec<&str> = ops
        .iter()
        .filter_map(|op| match op {
            Op::TextMatch(p, _) => Some(p.as_str()),
            _ => None,
        })
        .collect();
    let mut text = FoundText {
        script: Script::of(&patterns),
        boxes: None,
        lines: None,
    };
    let mut object: Vec<&Op> = Vec::new();
    for op in ops {
        let is_object = matches!(op, Op::ObjectPoint { .. } | Op::ObjectBox(..));
        // A second box cannot join a prompt (the model takes one): it starts the next one.
        let second_box = matches!(op, Op::ObjectBox(..))
            && object.iter().any(|o| matches!(o, Op::ObjectBox(..)));
        if !object.is_empty() && (!is_object || second_box) {
            select_object(&mut mask, image, &object)?;
            object.clear();
        }
        if is_object {
            object.push(op);
        } else {
            apply(&mut mask, image, op, &mut text)?;
        }
    }
    if !object.is_empty() {
        select_object(&mut mask, image, &object)?;
    }
    Ok(mask)
}

fn ops_in_order(args: &MaskArgs, m: &ArgMatches) -> anyhow::Result<Vec<Op>> {
    let mut ops: Vec<(usize, Op)> = Vec::new();
    for (i, t) in super::indexed::<String>(m, "rect") {
        ops.push((i, parse_rect(&t)?));
    }
    for (i, t) in super::indexed::<String>(m, "polygon") {
        ops.push((i, parse_polygon(&t)?));
    }
    for (i, t) in super::indexed::<String>(m, "stroke") {
        ops.push((i, parse_stroke(&t)?));
    }
    for (i, t) in super::indexed::<String>(m, "wand") {
        ops.push((i, parse_wand(&t)?));
    }
    for (i, t) in super::indexed::<String>(m, "grow") {
        ops.push((i, Op::Grow(parse_radius(&t, "--grow")?)));
    }
    for (i, t) in super::indexed::<String>(m, "shrink") {
        ops.push((i, Op::Shrink(parse_radius(&t, "--shrink")?)));
    }
    if args.fill_holes {
        let i = m.index_of("fill_holes").unwrap_or(usize::MAX);
        ops.push((i, Op::FillHoles));
    }
    if args.invert {
        let i = m.index_of("invert").unwrap_or(usize::MAX);
        ops.push((i, Op::Invert));
    }
    if args.text {
        let i = m.index_of("text").unwrap_or(usize::MAX);
        ops.push((i, Op::Text(text_margin(args)?)));
    }
    for (i, t) in super::indexed::<String>(m, "text_match") {
        if touchup::text::normalise(&t).is_empty() {
            bail!("--text-match '{t}': give the text to look for");
        }
        ops.push((i, Op::TextMatch(t, text_margin(args)?)));
    }
    for (i, t) in super::indexed::<String>(m, "object") {
        ops.push((i, parse_object_point(&t, "--object", true)?));
    }
    for (i, t) in super::indexed::<String>(m, "object_exclude") {
        ops.push((i, parse_object_point(&t, "--object-exclude", false)?));
    }
    for (i, t) in super::indexed::<String>(m, "object_box") {
        ops.push((i, parse_object_box(&t)?));
    }
    ops.sort_by_key(|(i, _)| *i);
    Ok(ops.into_iter().map(|(_, op)| op).collect())
}

fn text_margin(args: &MaskArgs) -> anyhow::Result<f32> {
    check_text_margin(args.text_margin)
}

/// `margin` if it is a text margin `touchup mask` takes (0 to 1000 px).
pub(crate) fn check_text_margin(margin: f32) -> anyhow::Result<f32> {
    if !(0.0..=1000.0).contains(&margin) {
        bail!("--text-margin: expected a number of pixels from 0 to 1000");
    }
    Ok(margin)
}

/// The photo's text lines, found on first use and read only if a `--text-match` needs it.
struct FoundText {
    script: Script,
    boxes: Option<Vec<TextBox>>,
    lines: Option<Vec<TextLine>>,
}

impl FoundText {
    fn boxes(&mut self, image: &RgbaImage) -> anyhow::Result<&[TextBox]> {
        if self.boxes.is_none() {
            let reader = touchup::text::reader()?;
            self.boxes = Some(reader.detect(image).context("could not find the text")?);
        }
        Ok(self.boxes.as_deref().unwrap_or_default())
    }

    fn lines(&mut self, image: &RgbaImage) -> anyhow::Result<&[TextLine]> {
        if self.lines.is_none() {
            let boxes = self.boxes(image)?.to_vec();
            let reader = touchup::text::reader()?;
            let lines = reader
                .recognise(image, &boxes, self.script)
                .context("could not read the text")?;
            for l in &lines {
                tracing::info!(text = %l.text, confidence = l.confidence, "text line");
            }
            self.lines = Some(lines);
        }
        Ok(self.lines.as_deref().unwrap_or_default())
    }
}

/// How a prompt's flags are written back in messages.
fn describe(ops: &[&Op]) -> String {
    ops.iter()
        .map(|op| match op {
            Op::ObjectPoint {
                foreground: true,
                text,
                ..
            } => format!("--object {text}"),
            Op::ObjectPoint { text, .. } => format!("--object-exclude {text}"),
            Op::ObjectBox(x, y, w, h) => format!("--object-box {x},{y},{w},{h}"),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds the object a prompt (consecutive object points and at most one box) selects.
fn select_object(mask: &mut Mask, image: &RgbaImage, ops: &[&Op]) -> anyhow::Result<()> {
    use touchup::segment::Prompt;
    let what = describe(ops);
    let mut prompt = Prompt::default();
    for op in ops {
        match op {
            Op::ObjectPoint {
                x,
                y,
                foreground,
                text,
            } => {
                if *x >= image.width() || *y >= image.height() {
                    let flag = if *foreground {
                        "--object"
                    } else {
                        "--object-exclude"
                    };
                    bail!(
                        "{flag} {text}: the point is outside the {}x{} photo; give a pixel inside it (0 ≤ X < {}, 0 ≤ Y < {})",
                        image.width(),
                        image.height(),
                        image.width(),
                        image.height()
                    );
                }
                // A pixel's centre.
                prompt = prompt.with_point(*x as f32 + 0.5, *y as f32 + 0.5, *foreground);
            }
            Op::ObjectBox(x, y, w, h) => {
                prompt = prompt.with_box(*x as f32, *y as f32, (x + w) as f32, (y + h) as f32);
            }
            _ => {}
        }
    }
    // Check before loading the models or encoding: a wrong point fails at once.
    prompt
        .check(image.width(), image.height())
        .with_context(|| what.clone())?;
    let segmenter = touchup::segment::segmenter().context("could not load the object models")?;
    let embedding = segmenter
        .encode(image)
        .with_context(|| format!("{what}: could not encode the photo"))?;
    let candidates = segmenter
        .decode(&embedding, &prompt, None)
        .with_context(|| what.clone())?;
    let region = candidates
        .region(candidates.preferred())
        .filter(|r| !r.is_empty());
    match region {
        Some(region) => {
            tracing::info!(
                prompt = %what,
                pixels = region.marked_count(),
                score = candidates.scores()[candidates.preferred()],
                "object selected"
            );
            region.apply(mask, Combine::Add);
        }
        None => eprintln!("{what}: no object found there"),
    }
    Ok(())
}

fn apply(mask: &mut Mask, image: &RgbaImage, op: &Op, text: &mut FoundText) -> anyhow::Result<()> {
    match op {
        Op::Rect(x, y, w, h) => {
            if mask.fill_rect(*x, *y, *w, *h, 255).is_none() {
                bail!(
                    "--rect '{x},{y},{w},{h}' lies wholly outside the {}x{} image; give a rectangle that overlaps the picture",
                    image.width(),
                    image.height()
                );
            }
        }
        Op::Polygon(pts) => {
            shapes::fill_polygon(mask, pts, shapes::Combine::Add);
        }
        Op::Stroke(r, pts) => {
            Brush::new(r * 2.0, 1.0, BrushMode::Paint).polyline(mask, pts);
        }
        Op::Wand {
            x,
            y,
            tolerance,
            text,
        } => {
            let options = WandOptions {
                tolerance: *tolerance,
                ..WandOptions::default()
            };
            magic_wand(mask, image, (*x, *y), &options, Combine::Add, None)
                .with_context(|| format!("--wand '{text}'"))?;
        }
        Op::Grow(n) => {
            grow(mask, *n);
        }
        Op::Shrink(n) => {
            shrink(mask, *n);
        }
        Op::FillHoles => {
            fill_holes(mask);
        }
        Op::Invert => {
            mask.invert();
        }
        Op::Text(margin) => {
            let boxes = text.boxes(image)?;
            if boxes.is_empty() {
                eprintln!("--text: no text found");
            }
            touchup::text::mark_boxes(mask, boxes, *margin, Combine::Add);
        }
        Op::TextMatch(pattern, margin) => {
            let lines = text.lines(image)?;
            let hits = touchup::text::lines_matching(lines, pattern);
            if hits.is_empty() {
                let read: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
                bail!(
                    "--text-match '{pattern}': no text line reads that (read: {})",
                    if read.is_empty() {
                        "nothing".to_string()
                    } else {
                        format!("'{}'", read.join("', '"))
                    }
                );
            }
            let boxes = hits.iter().map(|&i| &lines[i].area);
            touchup::text::mark_boxes(mask, boxes, *margin, Combine::Add);
        }
        // Grouped into prompts by `draw`.
        Op::ObjectPoint { .. } | Op::ObjectBox(..) => {
            select_object(mask, image, &[op])?;
        }
    }
    Ok(())
}

pub fn run(args: &MaskArgs, m: &ArgMatches) -> anyhow::Result<()> {
    let ops = ops_in_order(args, m)?;
    let image = touchup::imageio::open(&args.image).map_err(super::edit::open_error)?;
    let mask = draw(&image, &ops)?;
    let png = touchup::mask::export_png(&mask, args.polarity)?;
    if args.data_uri {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", touchup::mask::png_data_uri(&png))
            .context("could not write to stdout")?;
    } else if let Some(path) = &args.out {
        std::fs::write(path, &png)
            .with_context(|| format!("could not write the mask to {}", path.display()))?;
        eprintln!(
            "wrote {} ({}x{}, {} pixels marked)",
            path.display(),
            image.width(),
            image.height(),
            mask.count_at_least(touchup::mask::THRESHOLD)
        );
    }
    Ok(())
}
