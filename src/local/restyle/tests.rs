//! Signs rendered in code with known style; the erase and the measurements are checked against
//! the values used to render them.

use image::{Rgba, RgbaImage};

use super::analyse::{Analysis, stroke_width};
use super::faces::{Face, rasterise};
use super::measure::{Alignment, Case, measure};
use super::*;
use crate::mask::Mask;

/// How a test sign is drawn.
#[derive(Clone)]
struct Sign {
    size: (u32, u32),
    /// Ground colour at the left and at the right (a gradient), plus noise of this amplitude.
    ground: ([f32; 3], [f32; 3]),
    noise: f32,
    ink: [u8; 3],
    face: Face,
    px: f32,
    text: &'static str,
    /// Baseline start (image pixels), angle (degrees, clockwise) and slant (degrees, right).
    origin: (f32, f32),
    angle: f32,
    slant: f32,
}

impl Sign {
    fn ground_at(&self, x: u32, y: u32) -> [f32; 3] {
        let f = x as f32 / self.size.0 as f32;
        // A fixed pseudo-random grain.
        let h = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663)) % 1000;
        let n = (h as f32 / 999.0 - 0.5) * 2.0 * self.noise;
        let (a, b) = self.ground;
        [0, 1, 2].map(|c| a[c] + (b[c] - a[c]) * f + n)
    }

    /// The sign with and without its text, and a detector-like box around the text.
    fn render(&self) -> (RgbaImage, RgbaImage, crate::text::Quad) {
        let g = rasterise(self.face, self.text, self.px, 0.0, 2).expect("ink");
        let theta = self.angle.to_radians();
        let (u, v) = ([theta.cos(), theta.sin()], [-theta.sin(), theta.cos()]);
        let shear = self.slant.to_radians().tan();
        let (ox, oy) = self.origin;
        let mut with = RgbaImage::new(self.size.0, self.size.1);
        let mut without = RgbaImage::new(self.size.0, self.size.1);
        for y in 0..self.size.1 {
            for x in 0..self.size.0 {
                let ground = self.ground_at(x, y);
                let (dx, dy) = (x as f32 + 0.5 - ox, y as f32 + 0.5 - oy);
                let (s, t) = (dx * u[0] + dy * u[1], dx * v[0] + dy * v[1]);
                let a = g.sample(s + shear * t + g.left, g.baseline + t);
                let px = |c: [f32; 3]| Rgba([c[0] as u8, c[1] as u8, c[2] as u8, 255]);
                let inked: [f32; 3] =
                    [0, 1, 2].map(|c| ground[c] * (1.0 - a) + self.ink[c] as f32 * a);
                without.put_pixel(x, y, px(ground.map(|v| v.round().clamp(0.0, 255.0))));
                with.put_pixel(x, y, px(inked.map(|v| v.round().clamp(0.0, 255.0))));
            }
        }
        // The box: the ink's extent grown as the detector grows it (a bit more than half the
        // cap height above and below).
        let cap = self.cap();
        let width = g.right - g.left + shear.abs() * cap;
        let (s0, s1) = (-0.45 * cap, width + 0.45 * cap);
        let (t0, t1) = (-1.5 * cap, 0.55 * cap);
        let at = |s: f32, t: f32| [ox + s * u[0] + t * v[0], oy + s * u[1] + t * v[1]];
        (
            with,
            without,
            [at(s0, t0), at(s1, t0), at(s1, t1), at(s0, t1)],
        )
    }

    fn cap(&self) -> f32 {
        self.face.cap_ratio().unwrap_or(0.73) * self.px
    }

    fn x_height(&self) -> f32 {
        let g = rasterise(self.face, "x", self.px, 0.0, 0).expect("x");
        g.height as f32
    }

    fn stroke(&self) -> f32 {
        let g = rasterise(self.face, self.text, self.px, 0.0, 2).expect("ink");
        stroke_width(&g.coverage, g.width, g.height, |_| true)
    }
}

fn light_on_dark() -> Sign {
    Sign {
        size: (420, 140),
        ground: ([20.0, 70.0, 140.0], [30.0, 90.0, 160.0]),
        noise: 2.0,
        ink: [245, 245, 240],
        face: Face::SansBold,
        px: 48.0,
        text: "Seoul Pyong",
        origin: (60.0, 90.0),
        angle: 0.0,
        slant: 0.0,
    }
}

fn dark_on_light() -> Sign {
    Sign {
        ground: ([235.0, 232.0, 220.0], [215.0, 214.0, 205.0]),
        ink: [25, 25, 30],
        face: Face::Sans,
        text: "NO LITTER",
        origin: (40.0, 90.0),
        ..light_on_dark()
    }
}

fn whole(size: (u32, u32)) -> Mask {
    let mut m = Mask::new(size.0, size.1);
    m.fill_rect(0, 0, size.0 as i64, size.1 as i64, 255);
    m
}

/// Mean and largest difference over the pixels inside the box.
fn difference(a: &RgbaImage, b: &RgbaImage, quad: &crate::text::Quad) -> (f32, u8) {
    let f = Frame::from_quad(quad);
    let (mut sum, mut n, mut max) = (0.0f32, 0usize, 0u8);
    for (x, y, p) in a.enumerate_pixels() {
        let (s, t) = f.to_line(x as f32 + 0.5, y as f32 + 0.5);
        if s < 0.0 || t < 0.0 || s > f.length || t > f.height {
            continue;
        }
        let q = b.get_pixel(x, y);
        for c in 0..3 {
            let d = (p[c] as i16 - q[c] as i16).unsigned_abs() as u8;
            sum += d as f32;
            max = max.max(d);
        }
        n += 3;
    }
    (sum / n as f32, max)
}

fn check_erase(sign: &Sign) {
    let (with, without, quad) = sign.render();
    let mask = whole(sign.size);
    let a = Analysis::of(&with, &quad).expect("lettering found");
    let mut out = with.clone();
    let erased = a.erase(&mut out, &mask, 2, 7);
    assert!(erased > 500, "{erased}");
    let (before, _) = difference(&with, &without, &quad);
    let (mean, max) = difference(&out, &without, &quad);
    eprintln!("erase: {erased} px, text {before:.1} -> mean {mean:.2} max {max}");
    assert!(before > 10.0, "the text is there to erase: {before}");
    assert!(mean < 1.6, "mean difference from the bare sign {mean}");
    assert!(max <= 12, "largest difference from the bare sign {max}");
    // Pixels away from the strokes are untouched.
    let near = a.near_letters(3);
    for (i, &close) in near.iter().enumerate() {
        let (x, y) = a.pixel(i);
        if !close {
            assert_eq!(out.get_pixel(x, y), with.get_pixel(x, y));
        }
    }
}

#[test]
fn erasing_light_letters_leaves_the_dark_ground() {
    check_erase(&light_on_dark());
}

#[test]
fn erasing_dark_letters_leaves_the_light_ground() {
    check_erase(&dark_on_light());
}

#[test]
fn erasing_stays_inside_the_mask() {
    let sign = light_on_dark();
    let (with, _, quad) = sign.render();
    let mut mask = Mask::new(sign.size.0, sign.size.1);
    mask.fill_rect(0, 0, 200, 140, 255);
    let a = Analysis::of(&with, &quad).expect("lettering found");
    let mut out = with.clone();
    a.erase(&mut out, &mask, 2, 1);
    for (x, y, p) in out.enumerate_pixels() {
        if !mask.is_marked(x, y) {
            assert_eq!(p, with.get_pixel(x, y));
        }
    }
}

fn measured(sign: &Sign, reading: &str) -> LineStyle {
    let (with, _, quad) = sign.render();
    let a = Analysis::of(&with, &quad).expect("lettering found");
    measure(&a, &with, &whole(sign.size), reading).expect("a style")
}

fn assert_near(what: &str, got: f32, want: f32, tolerance: f32) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: measured {got}, rendered {want} (tolerance {tolerance})"
    );
}

fn check_common(sign: &Sign, style: &LineStyle) {
    eprintln!(
        "rendered: angle {} cap {:.2} slant {} stroke {:.2} x {:.1}\nmeasured: {style:?}",
        sign.angle,
        sign.cap(),
        sign.slant,
        sign.stroke(),
        sign.x_height()
    );
    assert_near("angle", style.angle, sign.angle, 0.6);
    assert_near(
        "cap height",
        style.cap_height,
        sign.cap(),
        0.06 * sign.cap(),
    );
    for c in 0..3 {
        assert_near("ink", style.ink[c] as f32, sign.ink[c] as f32, 6.0);
    }
    assert_near("slant", style.slant, sign.slant, 2.0);
    assert_near("stroke", style.stroke, sign.stroke(), 0.15 * sign.stroke());
}

#[test]
fn light_on_dark_upright_sans_is_measured() {
    let sign = light_on_dark();
    let style = measured(&sign, "Seoul Pyong");
    check_common(&sign, &style);
    assert!(style.light_on_dark);
    let x = style.x_height.expect("lower case seen");
    assert_near("x-height", x, sign.x_height(), 0.08 * sign.x_height());
    assert_eq!(style.case, Case::Title);
    assert_eq!(style.keystone, 0.0);
}

#[test]
fn dark_on_light_capitals_are_measured() {
    let sign = dark_on_light();
    let style = measured(&sign, "");
    check_common(&sign, &style);
    assert!(!style.light_on_dark);
    assert_eq!(style.x_height, None, "capitals only");
    assert_eq!(style.case, Case::Upper);
    // Book is lighter than bold at the same size.
    let bold = measured(
        &Sign {
            face: Face::SansBold,
            ..sign.clone()
        },
        "",
    );
    assert!(
        bold.weight > 1.25 * style.weight,
        "{} {}",
        bold.weight,
        style.weight
    );
}

#[test]
fn italic_lettering_is_measured() {
    let sign = Sign {
        slant: 12.0,
        ..light_on_dark()
    };
    let style = measured(&sign, "Seoul Pyong");
    check_common(&sign, &style);
}

#[test]
fn lettering_turned_six_degrees_is_measured_from_a_rougher_box() {
    let sign = Sign {
        angle: -6.0,
        origin: (50.0, 120.0),
        size: (420, 160),
        ..dark_on_light()
    };
    let (with, _, quad) = sign.render();
    // The detector's box is a degree off: the baseline is measured from the letters.
    let f = Frame::from_quad(&quad);
    let c = [
        (quad[0][0] + quad[2][0]) / 2.0,
        (quad[0][1] + quad[2][1]) / 2.0,
    ];
    let turn = 1.0f32.to_radians();
    let rotated = quad.map(|p| {
        let (dx, dy) = (p[0] - c[0], p[1] - c[1]);
        [
            c[0] + dx * turn.cos() - dy * turn.sin(),
            c[1] + dx * turn.sin() + dy * turn.cos(),
        ]
    });
    assert!((Frame::from_quad(&rotated).angle() - f.angle() - 1.0).abs() < 1e-3);
    let a = Analysis::of(&with, &rotated).expect("lettering found");
    let style = measure(&a, &with, &whole(sign.size), "NO LITTER").expect("a style");
    check_common(&sign, &style);
}

#[test]
fn alignment_in_the_panel() {
    // A dark panel from x 20 to 400 on a light wall; the text starts near its left edge.
    let sign = Sign {
        origin: (40.0, 90.0),
        text: "Seoul",
        ..light_on_dark()
    };
    let (mut with, _, quad) = sign.render();
    for (x, _, p) in with.enumerate_pixels_mut() {
        if !(20..400).contains(&x) {
            *p = Rgba([200, 200, 200, 255]);
        }
    }
    let a = Analysis::of(&with, &quad).expect("lettering found");
    let style = measure(&a, &with, &whole(sign.size), "Seoul").expect("a style");
    assert_eq!(style.alignment, Alignment::Left);
    // Moved to the middle of the panel, centred.
    let centred = Sign {
        origin: (140.0, 90.0),
        ..sign.clone()
    };
    let (mut with, _, quad) = centred.render();
    for (x, _, p) in with.enumerate_pixels_mut() {
        if !(20..400).contains(&x) {
            *p = Rgba([200, 200, 200, 255]);
        }
    }
    let a = Analysis::of(&with, &quad).expect("lettering found");
    let style = measure(&a, &with, &whole(sign.size), "Seoul").expect("a style");
    assert_eq!(style.alignment, Alignment::Centre, "{style:?}");
}

#[test]
fn the_new_string_takes_the_old_style() {
    let sign = Sign {
        angle: -6.0,
        slant: 10.0,
        origin: (50.0, 120.0),
        size: (460, 160),
        ..light_on_dark()
    };
    let (with, _, quad) = sign.render();
    let mask = whole(sign.size);
    let mut out = with.clone();
    let done = reletter(
        &with,
        &mut out,
        &mask,
        &[line_at(quad, "Seoul Pyong")],
        &["Busan Daegu".to_string()],
        None,
        3,
    );
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].new.as_deref(), Some("Busan Daegu"));
    // Measure the new line as the old one was.
    let a = Analysis::of(&out, &quad).expect("new lettering found");
    let new = measure(&a, &out, &mask, "Busan Daegu").expect("a style");
    let old = &done[0].style;
    assert_near("angle", new.angle, old.angle, 1.0);
    assert_near(
        "cap height",
        new.cap_height,
        old.cap_height,
        0.08 * old.cap_height,
    );
    assert_near("slant", new.slant, old.slant, 2.5);
    for c in 0..3 {
        assert_near("ink", new.ink[c] as f32, old.ink[c] as f32, 10.0);
    }
    assert_near("stroke", new.stroke, old.stroke, 0.2 * old.stroke);
    assert_eq!(done[0].face.kind(), "sans");
}

#[test]
fn split_boxes_on_one_line_are_joined() {
    let a = line_at(
        [[10.0, 10.0], [60.0, 10.0], [60.0, 30.0], [10.0, 30.0]],
        "OPEN",
    );
    let b = line_at(
        [[70.0, 11.0], [150.0, 11.0], [150.0, 31.0], [70.0, 31.0]],
        "7AM-3PM",
    );
    let c = line_at(
        [[10.0, 50.0], [150.0, 50.0], [150.0, 70.0], [10.0, 70.0]],
        "DAILY",
    );
    let merged = merge_split_lines(vec![a, b, c]);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0].text, "OPEN 7AM-3PM");
    assert!((merged[0].area.corners[1][0] - 150.0).abs() < 0.5);
}
