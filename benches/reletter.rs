//! Re-lettering a sign in its own style with the local engine.
//!
//! With arguments `IMAGE OLD NEW [OUT_DIR]`: finds the line reading OLD (as `--text-match`
//! does, 2 px margin), edits it with the prompt "Replace the sign text with 'NEW'", then
//! measures the old line and the new one the same way and prints both, with what the reader
//! reads in the result and the share of pixels in the mask, away from the new ink, that left
//! the old ground's range ("foreign" pieces). The result is saved in OUT_DIR when given.
//!
//! Without arguments: the time of a 1-line edit on a 12 MP photo (4000x3000, made here), the
//! models loaded beforehand. Pin it to one core: `taskset -c 0 cargo bench --bench reletter`.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use image::{Rgba, RgbaImage};
use touchup::local::restyle::{Analysis, LineStyle, measure::measure};
use touchup::local::{LocalOptions, edit};
use touchup::mask::{Combine, Mask};
use touchup::text::{self, Script, TextLine};

fn style_of(image: &RgbaImage, mask: &Mask, line: &TextLine) -> Option<(Analysis, LineStyle)> {
    let a = Analysis::of(image, &line.area.corners)?;
    let s = measure(&a, image, mask, &line.text)?;
    Some((a, s))
}

fn one_sign(path: &str, old: &str, new: &str, out_dir: Option<&str>) -> anyhow::Result<()> {
    let image = touchup::imageio::open(std::path::Path::new(path))?;
    let reader = text::reader()?;
    let lines = reader.read(&image, Script::Any)?;
    let hits = text::lines_matching(&lines, old);
    if hits.is_empty() {
        anyhow::bail!("no line reads '{old}' in {path}");
    }
    let mut mask = Mask::new(image.width(), image.height());
    text::mark_boxes(
        &mut mask,
        hits.iter().map(|&i| &lines[i].area),
        2.0,
        Combine::Add,
    );
    let prompt = format!("Replace the sign text with '{new}'");
    let started = Instant::now();
    let out = edit(
        &image,
        &mask,
        &prompt,
        &LocalOptions::default(),
        1,
        &|_| {},
        &AtomicBool::new(false),
    )?;
    let took = started.elapsed().as_secs_f64();
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(dir)?;
        let name = std::path::Path::new(path)
            .file_stem()
            .map_or("sign".into(), |s| s.to_string_lossy().to_string());
        out.save(format!("{dir}/{name}-{}.png", new.replace(' ', "_")))?;
    }
    let old_line = lines[hits[0]].clone();
    let old_line = touchup::local::restyle::merge_split_lines(
        hits.iter().map(|&i| lines[i].clone()).collect(),
    )
    .into_iter()
    .next()
    .unwrap_or(old_line);
    let mut read = reader.read_in_mask(&out, &mask, Script::of(&[new]))?;
    let mut check = text::check_lettering(&[new.to_string()], &read, Default::default());
    if !check.strings.first().is_some_and(|s| s.exact) {
        // As `touchup check-text` reads it: the whole photo (inside the mask alone, the
        // detector can take a new line and the arrow beside it for one line, mostly outside
        // the mask, which that read leaves out).
        read = reader.read(&out, Script::of(&[new]))?;
        check = text::check_lettering(&[new.to_string()], &read, Default::default());
    }
    let best = check.strings.first();
    let new_line = best
        .and_then(|s| s.lines.first())
        .and_then(|&i| read.get(i))
        .cloned();
    let (Some((oa, os)), Some((na, ns))) = (
        style_of(&image, &mask, &old_line),
        // The new line is measured in the old line's box (which holds it: it is drawn inside
        // the mask), as the reader's box of the new line may be tighter.
        new_line.as_ref().and_then(|l| {
            let mut inside = l.clone();
            inside.area = old_line.area.clone();
            style_of(&out, &mask, &inside)
        }),
    ) else {
        println!(
            "{path}: '{old}' -> '{new}': read '{}', exact {}; could not measure both lines",
            best.map_or("", |s| s.read.as_str()),
            best.is_some_and(|s| s.exact)
        );
        return Ok(());
    };
    // Foreign pieces: masked pixels away from the new ink outside the old ground's range.
    let mut range = [(255u8, 0u8); 3];
    let mut ground: Vec<[u8; 3]> = Vec::new();
    for i in 0..oa.width * oa.height {
        if oa.class[i] == touchup::local::restyle::analyse::Class::Ground {
            let (x, y) = oa.pixel(i);
            let p = image.get_pixel(x, y).0;
            ground.push([p[0], p[1], p[2]]);
        }
    }
    for (c, r) in range.iter_mut().enumerate() {
        let mut v: Vec<u8> = ground.iter().map(|p| p[c]).collect();
        v.sort_unstable();
        if !v.is_empty() {
            *r = (v[v.len() / 200], v[v.len() - 1 - v.len() / 200]);
        }
    }
    let near_new = na.near_letters(3);
    let (mut away, mut foreign) = (0usize, 0usize);
    for (i, &near) in near_new.iter().enumerate() {
        let (x, y) = na.pixel(i);
        if near || !mask.is_marked(x, y) {
            continue;
        }
        away += 1;
        let p = out.get_pixel(x, y).0;
        if (0..3)
            .any(|c| p[c].saturating_add(6) < range[c].0 || p[c] > range[c].1.saturating_add(6))
        {
            foreign += 1;
        }
    }
    let ink_diff = (0..3)
        .map(|c| (os.ink[c] as i32 - ns.ink[c] as i32).abs())
        .max()
        .unwrap_or(0);
    println!(
        "{path}: '{old}' -> '{new}' in {took:.2} s\n  read '{}' exact {}\n  old: {} | angle {:.1}° cap {:.1} px x {:?} slant {:.1}° stroke {:.2} ink {:?} ground {:?} {:?} {:?}\n  new: angle {:.1}° cap {:.1} px slant {:.1}° stroke {:.2} ink {:?}\n  angle diff {:.1}°, cap diff {:.0} %, ink diff {} levels, foreign {} of {} ground pixels",
        best.map_or("", |s| s.read.as_str()),
        best.is_some_and(|s| s.exact),
        os.describe("?"),
        os.angle,
        os.cap_height,
        os.x_height.map(|x| (x * 10.0).round() / 10.0),
        os.slant,
        os.stroke,
        os.ink,
        os.ground,
        os.alignment,
        os.case,
        ns.angle,
        ns.cap_height,
        ns.slant,
        ns.stroke,
        ns.ink,
        ns.angle - os.angle,
        100.0 * (ns.cap_height / os.cap_height - 1.0),
        ink_diff,
        foreign,
        away
    );
    Ok(())
}

/// 4000x3000: a shaded wall with grain, and a green sign with one white line.
fn photo() -> (RgbaImage, Mask) {
    let (w, h) = (4000u32, 3000u32);
    let mut img = RgbaImage::from_fn(w, h, |x, y| {
        let g = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 17;
        let v = 120 + (x / 40) as u8 % 40 + g as u8;
        Rgba([v, v.saturating_sub(10), v.saturating_sub(25), 255])
    });
    let (sx, sy, sw, sh) = (1500u32, 1200u32, 1100u32, 300u32);
    for y in sy..sy + sh {
        for x in sx..sx + sw {
            let g = ((x * 7 + y * 13) % 5) as u8;
            img.put_pixel(x, y, Rgba([20 + g, 110 + g, 60 + g, 255]));
        }
    }
    if let Some(bmp) =
        touchup::fonts::render_line(touchup::fonts::Typeface::SansBold, "Seoul 56Km", 150.0)
    {
        let (x0, y0) = (sx + (sw - bmp.width) / 2, sy + (sh - bmp.height) / 2);
        for by in 0..bmp.height {
            for bx in 0..bmp.width {
                let a = bmp.get(bx, by) as f32 / 255.0;
                let p = img.get_pixel_mut(x0 + bx, y0 + by);
                for c in 0..3 {
                    p.0[c] = (p.0[c] as f32 * (1.0 - a) + 245.0 * a).round() as u8;
                }
            }
        }
    }
    let mut mask = Mask::new(w, h);
    mask.fill_rect(
        sx as i64 + 20,
        sy as i64 + 20,
        sw as i64 - 40,
        sh as i64 - 40,
        255,
    );
    (img, mask)
}

fn timing() -> anyhow::Result<()> {
    let (img, mask) = photo();
    let started = Instant::now();
    text::reader()?;
    println!("models loaded in {:.2} s", started.elapsed().as_secs_f64());
    let mut times = Vec::new();
    for seed in 0..3 {
        let started = Instant::now();
        let out = edit(
            &img,
            &mask,
            "Replace the sign text with 'Busan 77Km'",
            &LocalOptions::default(),
            seed,
            &|_| {},
            &AtomicBool::new(false),
        )?;
        times.push(started.elapsed().as_secs_f64());
        if seed == 0
            && let Ok(dir) = std::env::var("RELETTER_SAVE")
        {
            image::imageops::crop_imm(&out, 1400, 1100, 1300, 500)
                .to_image()
                .save(format!("{dir}/reletter-12mp-crop.png"))?;
        }
    }
    println!(
        "1-line edit on 4000x3000, {} core(s): {:?} s (first includes building the model plans)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        times
            .iter()
            .map(|t| (t * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.len() >= 3 {
        one_sign(
            &args[0],
            &args[1],
            &args[2],
            args.get(3).map(String::as_str),
        )
    } else {
        timing()
    }
}
