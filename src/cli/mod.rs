//! The command line: `touchup [IMAGE]` opens the editor, subcommands run headless. Data goes to
//! stdout, messages to stderr; every expected failure is one line and a non-zero exit.

mod batch;
mod check_text;
mod edit;
mod mask;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "touchup",
    version,
    about = "Fix signage, menus and branding in photos with Ideogram 3.0 Edit or an offline engine",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// A photo to open in the editor (JPEG, PNG, WebP, BMP, GIF, TIFF). Without one the editor
    /// opens the bundled demo storefront.
    image: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a mask for an image from rectangles, polygons, strokes, the magic wand,
    /// grow/shrink, text lines and objects, headless.
    Mask(Box<mask::MaskArgs>),
    /// Edit the masked area of a photo with Ideogram 3.0 Edit on Runware or the offline engine,
    /// headless.
    Edit(Box<edit::EditArgs>),
    /// Run many edits from a JSON Lines manifest (one edit a line), several at once, with
    /// a summary in DIR/batch.json; --resume skips lines already done, --dry-run only checks.
    Batch(batch::BatchArgs),
    /// Read the text of a photo and check it against the expected strings; prints JSON.
    CheckText(check_text::CheckTextArgs),
    /// Redraw the bundled demo photo (the storefront the editor opens by default).
    Demo {
        /// Where to write the PNG.
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let sub = matches
        .subcommand()
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    let result = match cli.command {
        Some(Command::Mask(args)) => {
            init_logging();
            mask::run(&args, &sub)
        }
        Some(Command::CheckText(args)) => {
            init_logging();
            check_text::run(&args)
        }
        Some(Command::Edit(args)) => {
            init_logging();
            edit::run(&args)
        }
        Some(Command::Batch(args)) => {
            init_logging();
            batch::run(&args)
        }
        Some(Command::Demo { out }) => demo(&out),
        None => gui(cli.image),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, the causes joined: scripts read it, people act on it.
            eprintln!("touchup: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line (causes already in the message are not repeated).
fn one_line(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out.replace('\n', " ")
}

fn demo(out: &std::path::Path) -> anyhow::Result<()> {
    let img = touchup::demo::draw();
    let png = touchup::imageio::encode(&img, touchup::imageio::Format::Png, 100)?;
    std::fs::write(out, png)
        .map_err(|e| anyhow::anyhow!("could not write {}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn gui(image: Option<PathBuf>) -> anyhow::Result<()> {
    init_logging();
    touchup::ui::run(image)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOUCHUP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The positions on the command line of each value of a repeated argument.
pub(crate) fn indexed<T: Clone + Send + Sync + 'static>(
    m: &ArgMatches,
    id: &str,
) -> Vec<(usize, T)> {
    match (m.indices_of(id), m.get_many::<T>(id)) {
        (Some(idx), Some(vals)) => idx.zip(vals.cloned()).collect(),
        _ => Vec::new(),
    }
}
