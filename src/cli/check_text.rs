//! `touchup check-text`: reads the text of a photo (inside a mask, if given) and matches each
//! expected string to its best reading; prints the lettering check and the lines as JSON.
//! Exits 0 only when every expected string reads exactly, 1 otherwise (the JSON is printed
//! either way; an error prints nothing on stdout).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use touchup::mask::Polarity;
use touchup::text::{CompareOptions, LetteringCheck, Script, TextLine, check_lettering};

#[derive(Debug, Args)]
pub struct CheckTextArgs {
    /// The photo (or edited result) to read.
    #[arg(long)]
    image: PathBuf,
    /// A string the lettering should read (one per quoted string of the prompt).
    #[arg(long, value_name = "STRING", num_args = 1.., required = true)]
    expect: Vec<String>,
    /// Read only inside this mask (the edited area), same size as the image.
    #[arg(long, value_name = "MASK.png")]
    mask: Option<PathBuf>,
    /// Which colour marks the edit in --mask.
    #[arg(
        long,
        default_value = "white-edits",
        value_name = "white-edits|black-edits"
    )]
    polarity: Polarity,
    /// Letter case counts (otherwise "OPEN" matches "Open").
    #[arg(long)]
    case_sensitive: bool,
}

#[derive(serde::Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    lettering: &'a LetteringCheck,
    lines: &'a [TextLine],
}

pub fn run(args: &CheckTextArgs) -> anyhow::Result<()> {
    if args
        .expect
        .iter()
        .all(|e| touchup::text::normalise(e).is_empty())
    {
        bail!("--expect: give the text the image should read");
    }
    let image = touchup::imageio::open(&args.image).map_err(super::edit::open_error)?;
    let mask = match &args.mask {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("could not read the mask {}", path.display()))?;
            let mask =
                touchup::mask::import_mask(&bytes, image.width(), image.height(), args.polarity)
                    .with_context(|| format!("the mask {}", path.display()))?;
            Some(mask)
        }
        None => None,
    };
    let reader = touchup::text::reader()?;
    let script = Script::of(&args.expect);
    let lines = match &mask {
        Some(mask) => reader.read_in_mask(&image, mask, script)?,
        None => reader.read(&image, script)?,
    };
    let options = CompareOptions {
        case_sensitive: args.case_sensitive,
    };
    let lettering = check_lettering(&args.expect, &lines, options);
    let out = Output {
        lettering: &lettering,
        lines: &lines,
    };
    let json = serde_json::to_string_pretty(&out).context("could not build the JSON")?;
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{json}").context("could not write to stdout")?;
    if lettering.exact < lettering.total {
        // Scripts gate on the exit: 1 when any string does not read exactly (the JSON is out).
        bail!("{}", lettering.summary);
    }
    eprintln!("{}", lettering.summary);
    Ok(())
}
