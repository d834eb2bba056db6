//! The local engine re-letters a sign in its own style: a sign rendered here (white letters
//! on a green panel, turned 4°) is masked by its text line as `--text-match` does, edited with
//! a new quoted string, and read back with the text models; the new line keeps the old angle,
//! cap height and ink, and nothing outside the mask changes.

use std::sync::atomic::AtomicBool;

use image::{Rgba, RgbaImage};
use touchup::fonts::{Typeface, render_line};
use touchup::local::restyle::{Analysis, measure::measure};
use touchup::local::{LocalOptions, edit};
use touchup::mask::{Combine, Mask};
use touchup::text::{self, Script};

/// A wall with grain, a green panel, and `words` in white turned by `angle` degrees.
fn sign(words: &str, angle: f32) -> RgbaImage {
    let (w, h) = (720u32, 300u32);
    let mut img = RgbaImage::from_fn(w, h, |x, y| {
        let g = ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 13) as u8;
        if (60..660).contains(&x) && (50..250).contains(&y) {
            Rgba([18 + g / 3, 105 + g / 3, 62 + g / 3, 255])
        } else {
            Rgba([150 + g, 140 + g, 120 + g, 255])
        }
    });
    let bmp = render_line(Typeface::SansBold, words, 64.0).expect("ink");
    let (bw, bh) = (bmp.width as f32, bmp.height as f32);
    let (s, c) = angle.to_radians().sin_cos();
    let (cx, cy) = (360.0f32, 150.0f32);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            // Into the bitmap: turn back by the angle.
            let (u, v) = (dx * c + dy * s + bw / 2.0, -dx * s + dy * c + bh / 2.0);
            let (u0, v0) = ((u - 0.5).floor(), (v - 0.5).floor());
            let (fu, fv) = (u - 0.5 - u0, v - 0.5 - v0);
            let get = |xx: f32, yy: f32| {
                if xx < 0.0 || yy < 0.0 || xx >= bw || yy >= bh {
                    0.0
                } else {
                    bmp.get(xx as u32, yy as u32) as f32 / 255.0
                }
            };
            let a = (get(u0, v0) * (1.0 - fu) + get(u0 + 1.0, v0) * fu) * (1.0 - fv)
                + (get(u0, v0 + 1.0) * (1.0 - fu) + get(u0 + 1.0, v0 + 1.0) * fu) * fv;
            if a > 0.0 {
                let p = img.get_pixel_mut(x, y);
                for k in 0..3 {
                    p.0[k] = (p.0[k] as f32 * (1.0 - a) + 240.0 * a).round() as u8;
                }
            }
        }
    }
    img
}

#[test]
fn a_line_masked_by_its_text_is_relettered_in_its_own_style() {
    let image = sign("Seoul 56Km", 4.0);
    let reader = text::reader().expect("the text models are in the repository");
    let lines = reader.read(&image, Script::Latin).expect("read");
    let hits = text::lines_matching(&lines, "Seoul 56Km");
    assert!(!hits.is_empty(), "{lines:?}");
    let mut mask = Mask::new(image.width(), image.height());
    text::mark_boxes(
        &mut mask,
        hits.iter().map(|&i| &lines[i].area),
        2.0,
        Combine::Add,
    );
    let out = edit(
        &image,
        &mask,
        "Replace the sign text with 'Busan 77Km'",
        &LocalOptions::default(),
        1,
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("edited");
    for (x, y, p) in out.enumerate_pixels() {
        if !mask.is_marked(x, y) {
            assert_eq!(
                p,
                image.get_pixel(x, y),
                "changed outside the mask at {x},{y}"
            );
        }
    }
    let read = reader
        .read_in_mask(&out, &mask, Script::of(&["Busan 77Km"]))
        .expect("read");
    let check = text::check_lettering(&["Busan 77Km".to_string()], &read, Default::default());
    assert_eq!(check.exact, 1, "{:?}", check.strings);
    // The new line measured as the old one.
    let old_line = &lines[hits[0]];
    let old_a = Analysis::of(&image, &old_line.area.corners).expect("old lettering");
    let old = measure(&old_a, &image, &mask, &old_line.text).expect("old style");
    let new_line = &read[check.strings[0].lines[0]];
    let new_a = Analysis::of(&out, &new_line.area.corners).expect("new lettering");
    let new = measure(&new_a, &out, &mask, &new_line.text).expect("new style");
    assert!((old.angle - 4.0).abs() < 1.0, "old angle {}", old.angle);
    assert!(
        (new.angle - old.angle).abs() < 2.0,
        "{} vs {}",
        new.angle,
        old.angle
    );
    assert!(
        (new.cap_height / old.cap_height - 1.0).abs() < 0.15,
        "{} vs {}",
        new.cap_height,
        old.cap_height
    );
    for c in 0..3 {
        assert!(
            (new.ink[c] as i32 - old.ink[c] as i32).abs() <= 12,
            "{:?} vs {:?}",
            new.ink,
            old.ink
        );
    }
}
