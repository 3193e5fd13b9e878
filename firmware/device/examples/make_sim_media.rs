//! Generates the simulated board's sample media in `boards/sim/`: frames of a drawn face (looking
//! around, blinking, starting to smile) in `drawn/` (`sentiod --camera boards/sim/drawn`). The
//! camera's default frames (`camera/`, a photo, which the face detectors find) come from
//! `boards/sim/make_camera_frames.py`, the microphone's clip (`voice.wav`, a happy sentence) from
//! `boards/sim/make_voice.py`.
//!
//! Everything is made by this program from fixed numbers, so the media is reproducible and ours
//! to license. Run from the repository root:
//!
//! ```sh
//! cargo run -p sentiod --example make_sim_media            # writes boards/sim/
//! cargo run -p sentiod --example make_sim_media -- OUT_DIR
//! ```

use std::f32::consts::PI;
use std::path::PathBuf;

use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::mono_font::ascii::FONT_10X20;
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{
    Arc, Circle, Line, PrimitiveStyle, PrimitiveStyleBuilder, Rectangle, RoundedRectangle,
};
use embedded_graphics::text::Text;
use sentio_hal::sim::SimDisplay;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 480;
const FRAMES: u32 = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("boards/sim"));
    let camera_dir = out.join("drawn");
    std::fs::create_dir_all(&camera_dir)?;
    for i in 0..FRAMES {
        let path = camera_dir.join(format!("frame_{i:02}.png"));
        draw_scene(i).save_png(&path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn fill(c: Rgb888) -> PrimitiveStyle<Rgb888> {
    PrimitiveStyle::with_fill(c)
}

/// A filled ellipse, drawn row by row. (embedded-graphics 0.8's `Ellipse` overflows its integer
/// maths for ellipses larger than about 200 pixels.)
fn fill_ellipse(
    d: &mut SimDisplay<Rgb888>,
    center: Point,
    width: u32,
    height: u32,
    c: Rgb888,
) -> Result<(), core::convert::Infallible> {
    let (a, b) = (width as f32 / 2.0, height as f32 / 2.0);
    for dy in -(b as i32)..=(b as i32) {
        let half = a * (1.0 - (dy as f32 / b).powi(2)).max(0.0).sqrt();
        let x0 = (center.x as f32 - half).round() as i32;
        let x1 = (center.x as f32 + half).round() as i32;
        if x1 > x0 {
            d.fill_solid(
                &Rectangle::new(
                    Point::new(x0, center.y + dy),
                    Size::new((x1 - x0) as u32, 1),
                ),
                c,
            )?;
        }
    }
    Ok(())
}

fn stroke(c: Rgb888, w: u32) -> PrimitiveStyle<Rgb888> {
    PrimitiveStyle::with_stroke(c, w)
}

/// One camera frame: a person in front of a wall and a window. `i` moves the head, the gaze and
/// the mouth, and closes the eyes on one frame.
fn draw_scene(i: u32) -> SimDisplay<Rgb888> {
    let mut d = SimDisplay::<Rgb888>::new(WIDTH, HEIGHT);
    let t = i as f32 / FRAMES as f32;
    // Wall: a vertical gradient.
    for y in 0..HEIGHT {
        let k = y as f32 / HEIGHT as f32;
        let c = Rgb888::new(
            (170.0 + 40.0 * k) as u8,
            (185.0 + 20.0 * k) as u8,
            (205.0 - 30.0 * k) as u8,
        );
        let _ = d.fill_solid(
            &Rectangle::new(Point::new(0, y as i32), Size::new(WIDTH, 1)),
            c,
        );
    }
    // Window with a sky and frame, and a shelf.
    let _ = Rectangle::new(Point::new(40, 50), Size::new(150, 190))
        .into_styled(fill(Rgb888::new(120, 180, 235)))
        .draw(&mut d);
    let _ = Circle::new(Point::new(130, 80), 40)
        .into_styled(fill(Rgb888::new(255, 230, 120)))
        .draw(&mut d);
    let _ = Rectangle::new(Point::new(40, 50), Size::new(150, 190))
        .into_styled(stroke(Rgb888::new(250, 250, 245), 8))
        .draw(&mut d);
    let _ = Line::new(Point::new(115, 50), Point::new(115, 240))
        .into_styled(stroke(Rgb888::new(250, 250, 245), 6))
        .draw(&mut d);
    let _ = Rectangle::new(Point::new(470, 150), Size::new(150, 12))
        .into_styled(fill(Rgb888::new(130, 90, 60)))
        .draw(&mut d);
    for (k, c) in [
        Rgb888::new(200, 60, 60),
        Rgb888::new(60, 120, 200),
        Rgb888::new(230, 180, 40),
    ]
    .iter()
    .enumerate()
    {
        let _ = Rectangle::new(
            Point::new(485 + 24 * k as i32, 100 + 6 * k as i32),
            Size::new(18, 50 - 6 * k as u32),
        )
        .into_styled(fill(*c))
        .draw(&mut d);
    }

    // The person: head sways left and right.
    let cx = 320 + (28.0 * (2.0 * PI * t).sin()) as i32;
    let cy = 215;
    let skin = Rgb888::new(224, 172, 130);
    let skin_dark = Rgb888::new(190, 135, 100);
    let hair = Rgb888::new(70, 45, 30);
    // Shirt and neck.
    let _ = RoundedRectangle::with_equal_corners(
        Rectangle::new(Point::new(cx - 150, 380), Size::new(300, 160)),
        Size::new(60, 60),
    )
    .into_styled(fill(Rgb888::new(40, 130, 130)))
    .draw(&mut d);
    let _ = Rectangle::new(Point::new(cx - 35, 320), Size::new(70, 70))
        .into_styled(fill(skin_dark))
        .draw(&mut d);
    // Hair behind the head, ears, head.
    let _ = fill_ellipse(&mut d, Point::new(cx, cy - 20), 230, 250, hair);
    for side in [-1, 1] {
        let _ = fill_ellipse(
            &mut d,
            Point::new(cx + side * 100, cy + 5),
            36,
            56,
            skin_dark,
        );
    }
    let _ = fill_ellipse(&mut d, Point::new(cx, cy + 10), 200, 250, skin);
    // Fringe.
    let _ = fill_ellipse(&mut d, Point::new(cx - 20, cy - 100), 170, 60, hair);

    // Eyes: gaze follows a slow circle; frame 5 blinks.
    let gaze = Point::new(
        (6.0 * (2.0 * PI * t).cos()) as i32,
        (3.0 * (2.0 * PI * t).sin()) as i32,
    );
    for side in [-1, 1] {
        let eye = Point::new(cx + side * 42, cy - 10);
        if i == 5 {
            let _ = Line::new(eye - Point::new(18, 0), eye + Point::new(18, 0))
                .into_styled(stroke(hair, 4))
                .draw(&mut d);
        } else {
            let _ = fill_ellipse(&mut d, eye, 40, 24, Rgb888::WHITE);
            let _ = Circle::with_center(eye + gaze, 16)
                .into_styled(fill(Rgb888::new(60, 90, 60)))
                .draw(&mut d);
            let _ = Circle::with_center(eye + gaze, 7)
                .into_styled(fill(Rgb888::BLACK))
                .draw(&mut d);
        }
        // Eyebrows rise a little as the smile grows.
        let lift = (i as i32).min(6);
        let _ = Line::new(
            eye + Point::new(-22, -24 - lift),
            eye + Point::new(20, -28 - lift),
        )
        .into_styled(stroke(hair, 6))
        .draw(&mut d);
    }
    // Nose.
    let _ = Arc::with_center(
        Point::new(cx, cy + 30),
        26,
        Angle::from_degrees(20.0),
        Angle::from_degrees(140.0),
    )
    .into_styled(stroke(skin_dark, 4))
    .draw(&mut d);
    // Mouth: neutral for the first frames, then a widening smile.
    let mouth = Point::new(cx, cy + 70);
    if i < 3 {
        let _ = Line::new(mouth - Point::new(32, 0), mouth + Point::new(32, 0))
            .into_styled(stroke(Rgb888::new(150, 60, 60), 6))
            .draw(&mut d);
    } else {
        let sweep = 60.0 + 20.0 * (i - 3) as f32;
        let style = PrimitiveStyleBuilder::new()
            .stroke_color(Rgb888::new(150, 60, 60))
            .stroke_width(6)
            .build();
        let _ = Arc::with_center(
            mouth - Point::new(0, 25),
            90,
            Angle::from_degrees(90.0 - sweep / 2.0),
            Angle::from_degrees(sweep),
        )
        .into_styled(style)
        .draw(&mut d);
    }
    // Caption so a person can tell frames apart.
    let caption = format!("Sentio sim camera  frame {i}");
    let _ = Rectangle::new(Point::new(0, 448), Size::new(WIDTH, 32))
        .into_styled(fill(Rgb888::new(20, 20, 30)))
        .draw(&mut d);
    let _ = Text::new(
        &caption,
        Point::new(12, 470),
        MonoTextStyle::new(&FONT_10X20, Rgb888::WHITE),
    )
    .draw(&mut d);
    d
}
