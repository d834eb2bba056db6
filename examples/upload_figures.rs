//! GPU bytes uploaded per painted frame, measured through the real App driven by egui_kittest.
//! `cargo run --release --example upload_figures`

use egui_kittest::Harness;
use touchup::ui::{App, AppOptions};

fn main() {
    for (label, zoom_actual) in [("fitted view", false), ("100 % view", true)] {
        let mut h = Harness::builder()
            .with_size(egui::Vec2::new(1400.0, 900.0))
            .build_eframe(|cc| App::new(cc, AppOptions::default()));
        h.run_steps(3);
        if zoom_actual {
            h.key_press(egui::Key::Num1);
            h.run_steps(2);
        }
        for size in [20.0f32, 100.0] {
            h.state_mut().settings.brush_size = size;
            let canvas = h.state().canvas.rect();
            let start = canvas.center() - egui::vec2(200.0, 0.0);
            h.drag_at(start);
            h.step();
            let mut per_frame = Vec::new();
            // 40 frames, the pointer moving 10 points per frame (a brisk stroke).
            for i in 1..=40 {
                h.hover_at(start + egui::vec2(10.0 * i as f32, (i as f32 * 0.3).sin() * 20.0));
                h.step();
                per_frame.push(h.state().document.overlay_frame_bytes());
            }
            h.drop_at(start + egui::vec2(400.0, 0.0));
            h.step();
            per_frame.sort_unstable();
            let median = per_frame[per_frame.len() / 2];
            let max = per_frame[per_frame.len() - 1];
            let zoom = h.state().canvas.view.zoom;
            let brush_box = ((size + 2.0) as f64).powi(2) * 4.0;
            println!(
                "{label}, zoom {zoom:.3}, brush {size} px: median {median} B/frame, max {max} B/frame, brush box {brush_box:.0} B -> median {:.2}x, max {:.2}x the brush box",
                median as f64 / brush_box,
                max as f64 / brush_box
            );
            h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
            h.run_steps(2);
        }
    }
}
