//! Kiosk scenes, 64x64 RGB, each labelled with the set of `anp32` adjective-noun pairs it
//! shows: what a kiosk camera sees of a room, its light, its window and the people in front.
//!
//! A scene is drawn in two steps. `Spec::random` chooses what the scene *is* (the people,
//! the main person's expression and shirt, the room's light, the window's view and weather,
//! the plants, balloons and flowers); its labels follow from those choices alone, one per noun
//! at most. `render` then draws it with everything else random: wall and floor colours,
//! doors, posters and benches, positions and sizes, skin, hair, the window's frame and
//! curtains, exposure, white balance, blur and noise. So the cues are the only thing that
//! goes with a label, and a classifier has to look at them.
//!
//! Consistency rules the choices keep (tested): an empty hall has no person, so no face or
//! shirt pair; a lonely person or a small group always has a main person; the face and shirt
//! pairs describe the main person only (everyone else has a plain face and a shirt of a colour
//! no pair names); a dark room has no separate gloomy corner (the whole room is dark); a
//! starry night is not seen from a sunny room; rain falls only from cloudy or stormy skies,
//! snow only from cloudy ones (against a night sky it would look like stars); a bright
//! (glaring) window shows no sky to name.
//!
//! Every pair is a left-right symmetric notion, so a mirrored scene keeps its labels.

use std::f32::consts::{PI, TAU};
use std::path::{Path, PathBuf};

use image::RgbImage;
use sentio_models::ANP32;

use crate::DataError;
use crate::folder::{DatasetInfo, INFO_VERSION, Staging};
use crate::raster::{Canvas, Mask, Pt, arc, ellipse, pt, quad};
use crate::rng::{Rng, derive_seed};
use crate::sceneset::{LABELS_FILE, SCENE_IMAGES_DIR, SceneRecord};

/// Side of a scene image in pixels.
pub const SIZE: u32 = 64;
const S: f32 = SIZE as f32;

/// A colour, each channel in `0..=1`.
type Rgb = [f32; 3];

/// One scene: the picture and the `anp32` indices of the pairs it shows, ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// The 64x64 RGB picture.
    pub image: RgbImage,
    /// Indices into [`sentio_models::ANP32`], ascending, no repeats.
    pub labels: Vec<usize>,
}

/// Draw the scene of `seed`. With `focus` (an `anp32` index), the scene is made to show that
/// pair (everything else stays random); the generator uses it so every pair gets its share of
/// examples.
pub fn draw(seed: u64, focus: Option<usize>) -> Scene {
    let mut rng = Rng::new(seed);
    let mut spec = Spec::random(&mut rng);
    if let Some(label) = focus.and_then(|f| ANP32.labels.get(f)) {
        spec.force(label, &mut rng);
    }
    let mut painter_rng = Rng::new(rng.next_u64());
    Scene {
        image: render(&spec, &mut painter_rng),
        labels: spec.labels(),
    }
}

/// Scenes written for each unit of `--per-class`: with the probabilities of `Spec::random`
/// and one scene in 32 built around each pair, each pair shows in 0.7 to 1.8 `per_class` of
/// them (measured with 500: snowy_window, the rarest, in 358 scenes, the faces in 471-527,
/// cold_light in 916; docs/datasets.md).
pub const SCENES_PER_EXAMPLE: usize = 8;

/// Scenes when the caller does not give `--per-class` (4000 scenes).
pub const DEFAULT_PER_CLASS: usize = 500;

/// The number of scenes [`generate`] writes for `per_class`.
pub fn scene_count(per_class: usize) -> usize {
    per_class.saturating_mul(SCENES_PER_EXAMPLE)
}

/// What [`generate`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneSummary {
    /// The set's folder.
    pub root: PathBuf,
    /// Its `dataset.json` (`per_class`: the scenes showing each pair).
    pub info: DatasetInfo,
    /// Scenes written.
    pub scenes: usize,
}

/// Write [`scene_count`]`(per_class)` scenes to `out` in the [`crate::SceneSet`] layout
/// (`out/images/scene-<i>.png`, `out/labels.jsonl`, `out/dataset.json`). Scene `i` is drawn
/// from `derive_seed(seed, [i])` around pair `i % 32`, so the same arguments give
/// byte-identical files and a bigger set with the same seed begins with the smaller one.
/// `progress(done, total)` is called after each scene. `out` must not exist or be empty; it
/// appears only when complete.
pub fn generate(
    out: &Path,
    per_class: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SceneSummary, DataError> {
    if per_class == 0 || per_class > 1_000_000 {
        return Err(DataError::BadArgument(
            "--per-class must be 1 to 1000000".into(),
        ));
    }
    let staging = Staging::begin(out)?;
    let images = staging.path().join(SCENE_IMAGES_DIR);
    std::fs::create_dir_all(&images).map_err(DataError::io("cannot create", &images))?;
    let total = scene_count(per_class);
    let mut counts = vec![0usize; ANP32.len()];
    let mut lines = String::new();
    for i in 0..total {
        let scene = draw(derive_seed(seed, &[i as u64]), Some(i % ANP32.len()));
        let name = format!("scene-{i:05}.png");
        let path = images.join(&name);
        scene
            .image
            .save_with_format(&path, image::ImageFormat::Png)
            .map_err(DataError::image(&path))?;
        for &l in &scene.labels {
            counts[l] += 1;
        }
        let record = SceneRecord {
            image: format!("{SCENE_IMAGES_DIR}/{name}"),
            labels: scene
                .labels
                .iter()
                .map(|&l| ANP32.labels[l].to_owned())
                .collect(),
        };
        let line = serde_json::to_string(&record).map_err(|e| DataError::BadLabels {
            path: PathBuf::from(LABELS_FILE),
            line: Some(i + 1),
            reason: e.to_string(),
        })?;
        lines.push_str(&line);
        lines.push('\n');
        progress(i + 1, total);
    }
    let labels_path = staging.path().join(LABELS_FILE);
    std::fs::write(&labels_path, lines).map_err(DataError::io("cannot write", &labels_path))?;
    let info = DatasetInfo {
        version: INFO_VERSION,
        generator: format!("sentio-data {} synth scenes", env!("CARGO_PKG_VERSION")),
        label_set: ANP32.name.to_owned(),
        labels: ANP32.labels.iter().map(|l| (*l).to_owned()).collect(),
        image_size: Some([SIZE, SIZE]),
        per_class: counts,
        seed: Some(seed),
        source: None,
        usage: Vec::new(),
        skipped: 0,
        sample_rate: None,
        file_names: None,
        speakers: Vec::new(),
    };
    let root = staging.finish(&info)?;
    Ok(SceneSummary {
        root,
        info,
        scenes: total,
    })
}

// ---------------------------------------------------------------------------------------------
// What a scene is

/// Who is in the hall (each maps to one crowd pair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum People {
    EmptyHall,
    LonelyPerson,
    SmallGroup,
    BusyCrowd,
    HappyCrowd,
    QuietQueue,
}

/// The main person's expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expression {
    Neutral,
    Smiling,
    Laughing,
    Frowning,
    Crying,
    Surprised,
    Sleepy,
}

/// The main person's shirt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shirt {
    Red,
    Blue,
    Yellow,
    /// A colour no pair names (grey, white, green, purple, brown, charcoal).
    Other,
}

/// How much light the room has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RoomLight {
    Plain,
    Sunny,
    Dark,
}

/// The colour of the room's light.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LightColour {
    Neutral,
    Warm,
    Cold,
}

/// What the window shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    BlueSky,
    CloudySky,
    StormySky,
    StarryNight,
    Sunset,
    /// Overexposed: white glare, no sky to name.
    Glare,
}

/// What falls past the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Weather {
    Clear,
    Rain,
    Snow,
}

/// The potted plant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plant {
    Absent,
    Green,
    Wilted,
}

/// The person in front of the kiosk, whom the face and shirt pairs describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MainPerson {
    pub(crate) expression: Expression,
    pub(crate) shirt: Shirt,
}

/// A window and what it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) view: View,
    pub(crate) weather: Weather,
}

/// Everything a scene's labels depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) people: People,
    pub(crate) main: Option<MainPerson>,
    pub(crate) room: RoomLight,
    pub(crate) light: LightColour,
    pub(crate) gloomy_corner: bool,
    pub(crate) window: Option<Window>,
    pub(crate) plant: Plant,
    pub(crate) balloons: bool,
    pub(crate) flowers: bool,
}

const PEOPLE: [People; 6] = [
    People::EmptyHall,
    People::LonelyPerson,
    People::SmallGroup,
    People::BusyCrowd,
    People::HappyCrowd,
    People::QuietQueue,
];
const EXPRESSIONS: [Expression; 6] = [
    Expression::Smiling,
    Expression::Laughing,
    Expression::Frowning,
    Expression::Crying,
    Expression::Surprised,
    Expression::Sleepy,
];
const VIEWS: [View; 6] = [
    View::BlueSky,
    View::CloudySky,
    View::StormySky,
    View::StarryNight,
    View::Sunset,
    View::Glare,
];

/// Picks `options[i]` with probability `weights[i] / sum`.
fn weighted<T: Copy>(rng: &mut Rng, options: &[(T, f32)]) -> T {
    let total: f32 = options.iter().map(|(_, w)| w).sum();
    let mut x = rng.unit() * total;
    for &(option, w) in options {
        if x < w {
            return option;
        }
        x -= w;
    }
    options[options.len() - 1].0
}

fn random_main(rng: &mut Rng) -> MainPerson {
    let expression = if rng.chance(0.08) {
        Expression::Neutral
    } else {
        EXPRESSIONS[rng.index(EXPRESSIONS.len())]
    };
    let shirt = weighted(
        rng,
        &[
            (Shirt::Red, 1.0),
            (Shirt::Blue, 1.0),
            (Shirt::Yellow, 1.0),
            (Shirt::Other, 1.0),
        ],
    );
    MainPerson { expression, shirt }
}

fn weather_for(view: View, rng: &mut Rng) -> Weather {
    match view {
        // Snow falls from no other sky, so it gets a larger share of the cloudy ones.
        View::CloudySky => weighted(
            rng,
            &[
                (Weather::Clear, 1.0),
                (Weather::Rain, 1.0),
                (Weather::Snow, 3.0),
            ],
        ),
        View::StormySky => weighted(rng, &[(Weather::Clear, 1.0), (Weather::Rain, 1.0)]),
        View::BlueSky | View::StarryNight | View::Sunset | View::Glare => Weather::Clear,
    }
}

impl Spec {
    /// A scene drawn at random, consistent by construction.
    pub(crate) fn random(rng: &mut Rng) -> Spec {
        let people = PEOPLE[rng.index(PEOPLE.len())];
        let main = match people {
            People::EmptyHall => None,
            People::LonelyPerson | People::SmallGroup => Some(random_main(rng)),
            // Someone in front of the kiosk, with the crowd behind.
            People::BusyCrowd | People::HappyCrowd | People::QuietQueue => {
                rng.chance(0.75).then(|| random_main(rng))
            }
        };
        let window = rng.chance(0.85).then(|| {
            let view = VIEWS[rng.index(VIEWS.len())];
            Window {
                view,
                weather: weather_for(view, rng),
            }
        });
        let night = window.is_some_and(|w| w.view == View::StarryNight);
        let room = if night {
            weighted(rng, &[(RoomLight::Plain, 0.6), (RoomLight::Dark, 0.2)])
        } else {
            weighted(
                rng,
                &[
                    (RoomLight::Plain, 0.6),
                    (RoomLight::Sunny, 0.2),
                    (RoomLight::Dark, 0.2),
                ],
            )
        };
        let light = weighted(
            rng,
            &[
                (LightColour::Neutral, 0.6),
                (LightColour::Warm, 0.2),
                (LightColour::Cold, 0.2),
            ],
        );
        let gloomy_corner = room != RoomLight::Dark && rng.chance(0.2);
        let plant = weighted(
            rng,
            &[
                (Plant::Absent, 0.68),
                (Plant::Green, 0.16),
                (Plant::Wilted, 0.16),
            ],
        );
        Spec {
            people,
            main,
            room,
            light,
            gloomy_corner,
            window,
            plant,
            balloons: rng.chance(0.16),
            flowers: rng.chance(0.16),
        }
    }

    /// Make the scene show the pair `label` (an `anp32` label; others are ignored), changing
    /// whatever else would contradict it and keeping the consistency rules.
    pub(crate) fn force(&mut self, label: &str, rng: &mut Rng) {
        let expression = match label {
            "smiling_face" => Some(Expression::Smiling),
            "laughing_face" => Some(Expression::Laughing),
            "frowning_face" => Some(Expression::Frowning),
            "crying_face" => Some(Expression::Crying),
            "surprised_face" => Some(Expression::Surprised),
            "sleepy_face" => Some(Expression::Sleepy),
            _ => None,
        };
        let shirt = match label {
            "red_shirt" => Some(Shirt::Red),
            "blue_shirt" => Some(Shirt::Blue),
            "yellow_shirt" => Some(Shirt::Yellow),
            _ => None,
        };
        if expression.is_some() || shirt.is_some() {
            if self.people == People::EmptyHall {
                self.people = People::LonelyPerson;
            }
            let mut main = self.main.unwrap_or_else(|| random_main(rng));
            main.expression = expression.unwrap_or(main.expression);
            main.shirt = shirt.unwrap_or(main.shirt);
            self.main = Some(main);
            return;
        }
        let people = match label {
            "empty_hall" => Some(People::EmptyHall),
            "lonely_person" => Some(People::LonelyPerson),
            "small_group" => Some(People::SmallGroup),
            "busy_crowd" => Some(People::BusyCrowd),
            "happy_crowd" => Some(People::HappyCrowd),
            "quiet_queue" => Some(People::QuietQueue),
            _ => None,
        };
        if let Some(people) = people {
            self.people = people;
            match people {
                People::EmptyHall => self.main = None,
                People::LonelyPerson | People::SmallGroup if self.main.is_none() => {
                    self.main = Some(random_main(rng));
                }
                _ => {}
            }
            return;
        }
        let view = match label {
            "blue_sky" => Some(View::BlueSky),
            "cloudy_sky" => Some(View::CloudySky),
            "stormy_sky" => Some(View::StormySky),
            "starry_night" => Some(View::StarryNight),
            "golden_sunset" => Some(View::Sunset),
            "bright_window" => Some(View::Glare),
            _ => None,
        };
        if let Some(view) = view {
            let weather = match self.window {
                Some(w) if weather_allowed(view, w.weather) => w.weather,
                _ => Weather::Clear,
            };
            self.window = Some(Window { view, weather });
            if view == View::StarryNight && self.room == RoomLight::Sunny {
                self.room = RoomLight::Plain;
            }
            return;
        }
        match label {
            "rainy_window" => {
                let view = match self.window {
                    Some(w) if weather_allowed(w.view, Weather::Rain) => w.view,
                    _ if rng.chance(0.5) => View::CloudySky,
                    _ => View::StormySky,
                };
                self.window = Some(Window {
                    view,
                    weather: Weather::Rain,
                });
            }
            "snowy_window" => {
                self.window = Some(Window {
                    view: View::CloudySky,
                    weather: Weather::Snow,
                });
            }
            "sunny_room" => {
                self.room = RoomLight::Sunny;
                if let Some(w) = &mut self.window
                    && w.view == View::StarryNight
                {
                    *w = Window {
                        view: View::BlueSky,
                        weather: Weather::Clear,
                    };
                }
            }
            "dark_room" => {
                self.room = RoomLight::Dark;
                self.gloomy_corner = false;
            }
            "gloomy_corner" => {
                self.gloomy_corner = true;
                if self.room == RoomLight::Dark {
                    self.room = RoomLight::Plain;
                }
            }
            "warm_light" => self.light = LightColour::Warm,
            "cold_light" => self.light = LightColour::Cold,
            "green_plant" => self.plant = Plant::Green,
            "wilted_plant" => self.plant = Plant::Wilted,
            "colorful_balloons" => self.balloons = true,
            "pink_flowers" => self.flowers = true,
            _ => {}
        }
    }

    /// The pairs this scene shows, as `anp32` indices, ascending.
    pub(crate) fn labels(&self) -> Vec<usize> {
        let mut names: Vec<&str> = vec![match self.people {
            People::EmptyHall => "empty_hall",
            People::LonelyPerson => "lonely_person",
            People::SmallGroup => "small_group",
            People::BusyCrowd => "busy_crowd",
            People::HappyCrowd => "happy_crowd",
            People::QuietQueue => "quiet_queue",
        }];
        if let Some(main) = self.main {
            names.extend(match main.expression {
                Expression::Neutral => None,
                Expression::Smiling => Some("smiling_face"),
                Expression::Laughing => Some("laughing_face"),
                Expression::Frowning => Some("frowning_face"),
                Expression::Crying => Some("crying_face"),
                Expression::Surprised => Some("surprised_face"),
                Expression::Sleepy => Some("sleepy_face"),
            });
            names.extend(match main.shirt {
                Shirt::Red => Some("red_shirt"),
                Shirt::Blue => Some("blue_shirt"),
                Shirt::Yellow => Some("yellow_shirt"),
                Shirt::Other => None,
            });
        }
        names.extend(match self.room {
            RoomLight::Plain => None,
            RoomLight::Sunny => Some("sunny_room"),
            RoomLight::Dark => Some("dark_room"),
        });
        names.extend(match self.light {
            LightColour::Neutral => None,
            LightColour::Warm => Some("warm_light"),
            LightColour::Cold => Some("cold_light"),
        });
        if self.gloomy_corner {
            names.push("gloomy_corner");
        }
        if let Some(window) = self.window {
            names.push(match window.view {
                View::BlueSky => "blue_sky",
                View::CloudySky => "cloudy_sky",
                View::StormySky => "stormy_sky",
                View::StarryNight => "starry_night",
                View::Sunset => "golden_sunset",
                View::Glare => "bright_window",
            });
            names.extend(match window.weather {
                Weather::Clear => None,
                Weather::Rain => Some("rainy_window"),
                Weather::Snow => Some("snowy_window"),
            });
        }
        names.extend(match self.plant {
            Plant::Absent => None,
            Plant::Green => Some("green_plant"),
            Plant::Wilted => Some("wilted_plant"),
        });
        if self.balloons {
            names.push("colorful_balloons");
        }
        if self.flowers {
            names.push("pink_flowers");
        }
        let mut labels: Vec<usize> = names.iter().filter_map(|n| ANP32.index_of(n)).collect();
        labels.sort_unstable();
        labels
    }
}

fn weather_allowed(view: View, weather: Weather) -> bool {
    match weather {
        Weather::Clear => true,
        Weather::Rain => matches!(view, View::CloudySky | View::StormySky),
        // Snow against a night sky would look like stars.
        Weather::Snow => view == View::CloudySky,
    }
}

// ---------------------------------------------------------------------------------------------
// Colours and the RGB picture

/// A colour from hue (degrees), saturation and value.
fn hsv(h: f32, s: f32, v: f32) -> Rgb {
    let h = h.rem_euclid(360.0) / 60.0;
    let c = v * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r + m, g + m, b + m]
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn times(c: Rgb, k: f32) -> Rgb {
    [c[0] * k, c[1] * k, c[2] * k]
}

/// An RGB picture: three gray canvases, each shape painted into all three through one coverage
/// mask; and how much of each pixel still shows the window's glass (every shape painted over
/// it hides it), so the room's light can leave the view through the window alone.
struct Picture {
    channels: [Canvas; 3],
    glass: Canvas,
}

impl Picture {
    fn new(width: u32, height: u32, colour: Rgb) -> Picture {
        Picture {
            channels: colour.map(|v| Canvas::new(width, height, v)),
            glass: Canvas::new(width, height, 0.0),
        }
    }

    fn width(&self) -> u32 {
        self.channels[0].width()
    }

    fn height(&self) -> u32 {
        self.channels[0].height()
    }

    fn mask(&self) -> Mask {
        Mask::new(self.width(), self.height())
    }

    fn paint(&mut self, mask: &Mask, colour: Rgb, opacity: f32) {
        for (channel, value) in self.channels.iter_mut().zip(colour) {
            channel.composite(mask, value, opacity);
        }
        self.glass.composite(mask, 0.0, opacity);
    }

    fn polygon(&mut self, points: &[Pt], colour: Rgb, opacity: f32) {
        let mut mask = self.mask();
        mask.fill(points);
        self.paint(&mask, colour, opacity);
    }

    fn oval(&mut self, centre: Pt, rx: f32, ry: f32, colour: Rgb, opacity: f32) {
        let n = (8.0 + rx.max(ry) * 3.0).clamp(10.0, 48.0) as usize;
        self.polygon(&ellipse(centre, rx, ry, n), colour, opacity);
    }

    fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, colour: Rgb, opacity: f32) {
        self.polygon(
            &[pt(x0, y0), pt(x1, y0), pt(x1, y1), pt(x0, y1)],
            colour,
            opacity,
        );
    }

    fn line(&mut self, points: &[Pt], width: f32, colour: Rgb, opacity: f32) {
        let mut mask = self.mask();
        mask.stroke(points, &[width]);
        self.paint(&mask, colour, opacity);
    }

    /// Set every value from a function of the pixel centre, the channel and the old value.
    fn shade(&mut self, f: impl Fn(f32, f32, usize, f32) -> f32) {
        for (k, channel) in self.channels.iter_mut().enumerate() {
            channel.shade(|x, y, v| f(x, y, k, v));
        }
    }

    /// Copy `source` onto this picture with its top-left corner at `(x0, y0)`.
    fn blit(&mut self, source: &Picture, x0: u32, y0: u32) {
        let (w, h) = (source.width(), source.height());
        self.shade(|x, y, k, v| {
            let (i, j) = (x as u32, y as u32);
            if i >= x0 && j >= y0 && i - x0 < w && j - y0 < h {
                source.channels[k].get(i - x0, j - y0)
            } else {
                v
            }
        });
    }

    fn to_image(&self) -> RgbImage {
        let [r, g, b] = [0, 1, 2].map(|k| self.channels[k].to_image());
        let mut bytes = Vec::with_capacity(r.as_raw().len() * 3);
        for ((r, g), b) in r.as_raw().iter().zip(g.as_raw()).zip(b.as_raw()) {
            bytes.extend_from_slice(&[*r, *g, *b]);
        }
        RgbImage::from_raw(self.width(), self.height(), bytes)
            .unwrap_or_else(|| RgbImage::new(self.width(), self.height()))
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing a scene

/// What the later drawing steps need to know about the room.
struct Room {
    /// Where the wall meets the floor.
    horizon: f32,
}

/// Draw `spec` with everything its labels do not fix drawn from `rng`.
pub(crate) fn render(spec: &Spec, rng: &mut Rng) -> RgbImage {
    let horizon = rng.range(0.56, 0.7) * S;
    let mut pic = Picture::new(SIZE, SIZE, [0.0; 3]);
    walls_and_floor(&mut pic, horizon, rng);
    let room = Room { horizon };
    decor(&mut pic, &room, rng);
    if let Some(window) = spec.window {
        draw_window(&mut pic, &room, window, rng);
    }
    if spec.room == RoomLight::Sunny {
        sun_patches(&mut pic, &room, rng);
    }
    let lamp = lamp(&mut pic, spec.light, rng);
    // Back to front: the people behind, the balloons above them, the main person, then the
    // plant and the flowers in the near corners (nothing hides them).
    let main = people(&mut pic, spec, &room, rng);
    if spec.balloons {
        balloons(&mut pic, &room, rng);
    }
    if let Some(p) = main {
        person(&mut pic, &p, rng);
    }
    foreground(&mut pic, spec, rng);
    lighting(&mut pic, spec, rng);
    if let Some(glow) = lamp {
        glow.draw(&mut pic);
    }
    camera(&mut pic, rng);
    pic.to_image()
}

fn walls_and_floor(pic: &mut Picture, horizon: f32, rng: &mut Rng) {
    let wall = hsv(
        rng.range(0.0, 360.0),
        rng.range(0.04, 0.32),
        rng.range(0.6, 0.9),
    );
    let wall_bottom = times(wall, rng.range(0.85, 1.05));
    let floor = match rng.index(3) {
        // wood
        0 => hsv(
            rng.range(20.0, 38.0),
            rng.range(0.35, 0.6),
            rng.range(0.35, 0.62),
        ),
        // grey tiles or concrete
        1 => hsv(
            rng.range(0.0, 360.0),
            rng.range(0.0, 0.08),
            rng.range(0.3, 0.65),
        ),
        // carpet
        _ => hsv(
            rng.range(0.0, 360.0),
            rng.range(0.2, 0.5),
            rng.range(0.25, 0.5),
        ),
    };
    let far = times(floor, rng.range(0.8, 0.95));
    pic.shade(|_, y, k, _| {
        if y < horizon {
            let t = y / horizon;
            wall[k] + (wall_bottom[k] - wall[k]) * t
        } else {
            let t = (y - horizon) / (S - horizon);
            far[k] + (floor[k] - far[k]) * t
        }
    });
    // Planks or tiles: lines across the floor, converging a little.
    match rng.index(3) {
        0 => {
            let n = 2 + rng.index(4);
            for i in 0..n {
                let y = horizon + (S - horizon) * ((i as f32 + 0.5) / n as f32).powf(1.3);
                pic.line(&[pt(-2.0, y), pt(S + 2.0, y)], 0.6, times(floor, 0.7), 0.5);
            }
        }
        1 => {
            let n = 4 + rng.index(6);
            let vanish = pt(S / 2.0 + rng.sym(20.0), horizon - rng.range(10.0, 40.0));
            for i in 0..=n {
                let x = -S / 2.0 + 2.0 * S * i as f32 / n as f32;
                let t = (horizon - vanish.y) / (S - vanish.y);
                let top = pt(vanish.x + (x - vanish.x) * t, horizon);
                pic.line(&[top, pt(x, S)], 0.6, times(floor, 0.75), 0.45);
            }
        }
        _ => {}
    }
    // Skirting board.
    let board = if rng.chance(0.5) {
        times(wall, 0.6)
    } else {
        hsv(0.0, 0.0, rng.range(0.7, 0.95))
    };
    pic.rect(
        -1.0,
        horizon - rng.range(0.8, 1.8),
        S + 1.0,
        horizon + 0.3,
        board,
        0.9,
    );
}

/// Things on the wall and floor that name no pair: doors, posters, a clock, a bench, a bin.
fn decor(pic: &mut Picture, room: &Room, rng: &mut Rng) {
    let horizon = room.horizon;
    if rng.chance(0.4) {
        let w = rng.range(9.0, 14.0);
        let x = rng.range(0.0, S - w);
        let top = rng.range(4.0, 12.0);
        let colour = match rng.index(3) {
            0 => hsv(
                rng.range(20.0, 35.0),
                rng.range(0.4, 0.6),
                rng.range(0.3, 0.55),
            ),
            1 => hsv(0.0, 0.0, rng.range(0.45, 0.85)),
            _ => hsv(
                rng.range(0.0, 360.0),
                rng.range(0.2, 0.5),
                rng.range(0.3, 0.6),
            ),
        };
        pic.rect(x, top, x + w, horizon + 0.5, colour, 1.0);
        pic.line(
            &[
                pt(x, top),
                pt(x + w, top),
                pt(x + w, horizon),
                pt(x, horizon),
            ],
            0.7,
            times(colour, 0.6),
            0.8,
        );
        let knob_x = if rng.chance(0.5) {
            x + 1.5
        } else {
            x + w - 1.5
        };
        pic.oval(
            pt(knob_x, (top + horizon) / 2.0 + 2.0),
            0.7,
            0.7,
            [0.8, 0.75, 0.5],
            0.9,
        );
    }
    for _ in 0..rng.index(3) {
        let (w, h) = (rng.range(5.0, 11.0), rng.range(5.0, 12.0));
        let x = rng.range(0.0, S - w);
        let y = rng.range(2.0, (horizon - h - 3.0).max(3.0));
        let base = hsv(
            rng.range(0.0, 360.0),
            rng.range(0.1, 0.8),
            rng.range(0.3, 0.95),
        );
        pic.rect(x, y, x + w, y + h, base, 1.0);
        for _ in 0..rng.index(4) {
            let c = hsv(
                rng.range(0.0, 360.0),
                rng.range(0.2, 0.9),
                rng.range(0.2, 1.0),
            );
            let (a, b) = (rng.range(0.0, h), rng.range(0.0, h));
            pic.rect(x + 0.8, y + a.min(b), x + w - 0.8, y + a.max(b), c, 0.9);
        }
        let frame = hsv(0.0, 0.0, rng.range(0.05, 0.9));
        pic.line(
            &[
                pt(x, y),
                pt(x + w, y),
                pt(x + w, y + h),
                pt(x, y + h),
                pt(x, y),
            ],
            0.7,
            frame,
            0.9,
        );
    }
    if rng.chance(0.2) {
        let c = pt(rng.range(6.0, S - 6.0), rng.range(4.0, horizon * 0.5));
        let r = rng.range(2.2, 3.5);
        pic.oval(c, r, r, hsv(0.0, 0.0, rng.range(0.85, 1.0)), 1.0);
        pic.line(&ellipse(c, r, r, 20), 0.6, [0.1, 0.1, 0.1], 0.9);
        let a = rng.range(0.0, TAU);
        pic.line(
            &[c, pt(c.x + r * 0.7 * a.cos(), c.y + r * 0.7 * a.sin())],
            0.5,
            [0.1, 0.1, 0.1],
            0.9,
        );
    }
    if rng.chance(0.3) {
        // A bench.
        let w = rng.range(12.0, 22.0);
        let x = rng.range(-4.0, S - w + 4.0);
        let y = horizon + rng.range(1.0, 6.0);
        let c = match rng.index(2) {
            0 => hsv(
                rng.range(20.0, 35.0),
                rng.range(0.4, 0.6),
                rng.range(0.3, 0.5),
            ),
            _ => hsv(0.0, 0.0, rng.range(0.2, 0.6)),
        };
        pic.rect(x, y - 4.0, x + w, y - 2.5, c, 1.0);
        pic.rect(x, y - 2.0, x + w, y - 1.0, c, 1.0);
        pic.rect(x + 1.0, y - 1.0, x + 2.0, y + 2.0, times(c, 0.6), 1.0);
        pic.rect(
            x + w - 2.0,
            y - 1.0,
            x + w - 1.0,
            y + 2.0,
            times(c, 0.6),
            1.0,
        );
    }
    if rng.chance(0.2) {
        // A bin.
        let x = rng.range(2.0, S - 6.0);
        let y = horizon + rng.range(2.0, 10.0);
        let c = hsv(
            rng.range(0.0, 360.0),
            rng.range(0.0, 0.3),
            rng.range(0.25, 0.7),
        );
        pic.polygon(
            &[
                pt(x, y - 6.0),
                pt(x + 4.0, y - 6.0),
                pt(x + 3.4, y),
                pt(x + 0.6, y),
            ],
            c,
            1.0,
        );
    }
}

fn draw_window(pic: &mut Picture, room: &Room, window: Window, rng: &mut Rng) {
    let (w, h) = (rng.range(17.0, 30.0).round(), rng.range(12.0, 21.0).round());
    let x0 = rng.range(1.0, S - w - 1.0).round();
    let y0 = rng.range(2.0, (room.horizon - h - 5.0).max(2.5)).round();
    let mut glass = Picture::new(w as u32, h as u32, [0.0; 3]);
    view(&mut glass, window, rng);
    pic.blit(&glass, x0 as u32, y0 as u32);
    let (x1, y1) = (x0 + w, y0 + h);
    let mut pane = pic.mask();
    pane.fill(&[pt(x0, y0), pt(x1, y0), pt(x1, y1), pt(x0, y1)]);
    pic.glass.composite(&pane, 1.0, 1.0);

    let frame = match rng.index(3) {
        0 => hsv(0.0, 0.0, rng.range(0.85, 0.97)),
        1 => hsv(
            rng.range(20.0, 35.0),
            rng.range(0.4, 0.65),
            rng.range(0.3, 0.55),
        ),
        _ => hsv(0.0, 0.0, rng.range(0.15, 0.4)),
    };
    let width = rng.range(1.0, 2.0);
    pic.line(
        &[pt(x0, y0), pt(x1, y0), pt(x1, y1), pt(x0, y1), pt(x0, y0)],
        width,
        frame,
        1.0,
    );
    match rng.index(5) {
        0 | 1 => {
            let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
            pic.line(&[pt(mx, y0), pt(mx, y1)], width * 0.7, frame, 1.0);
            pic.line(&[pt(x0, my), pt(x1, my)], width * 0.7, frame, 1.0);
        }
        2 => {
            let mx = (x0 + x1) / 2.0;
            pic.line(&[pt(mx, y0), pt(mx, y1)], width * 0.7, frame, 1.0);
        }
        _ => {}
    }
    if rng.chance(0.6) {
        pic.rect(x0 - 1.5, y1, x1 + 1.5, y1 + 1.3, times(frame, 1.05), 1.0);
    }
    if rng.chance(0.3) {
        // Curtains drawn a little way in from each side.
        let cloth = hsv(
            rng.range(0.0, 360.0),
            rng.range(0.2, 0.6),
            rng.range(0.3, 0.8),
        );
        let reach = w * rng.range(0.08, 0.2);
        pic.rect(x0 - 2.0, y0 - 2.0, x0 + reach, y1 + 2.0, cloth, 1.0);
        pic.rect(x1 - reach, y0 - 2.0, x1 + 2.0, y1 + 2.0, cloth, 1.0);
        pic.rect(
            x0 - 3.0,
            y0 - 3.0,
            x1 + 3.0,
            y0 - 1.5,
            times(cloth, 0.6),
            1.0,
        );
    }
    if window.view == View::Glare {
        // Glare spills over the frame and the wall around the window; it is the window's own
        // light, so the room's light leaves it as it leaves the glass.
        let reach = rng.range(3.0, 6.0);
        let strength = rng.range(0.5, 0.8);
        let halo = |x: f32, y: f32| {
            let dx = (x0 - x).max(x - x1).max(0.0);
            let dy = (y0 - y).max(y - y1).max(0.0);
            strength * (1.0 - (dx * dx + dy * dy).sqrt() / reach).max(0.0)
        };
        pic.shade(|x, y, _, v| v + (1.0 - v) * halo(x, y));
        pic.glass.shade(|x, y, g| g.max(halo(x, y)));
    }
}

/// What the window shows, drawn on the glass picture (its own coordinates).
fn view(glass: &mut Picture, window: Window, rng: &mut Rng) {
    let (w, h) = (glass.width() as f32, glass.height() as f32);
    match window.view {
        View::BlueSky => {
            let hue = rng.range(200.0, 222.0);
            let top = hsv(hue, rng.range(0.55, 0.85), rng.range(0.65, 0.92));
            let bottom = hsv(hue, rng.range(0.25, 0.45), rng.range(0.85, 1.0));
            glass.shade(|_, y, k, _| top[k] + (bottom[k] - top[k]) * y / h);
            if rng.chance(0.35) {
                let c = pt(rng.range(3.0, w - 3.0), rng.range(2.0, h * 0.5));
                let r = rng.range(1.5, 2.5);
                glass.oval(c, r, r, [1.0, 0.97, 0.8], 1.0);
            }
            if rng.chance(0.5) {
                // One small fair-weather cloud.
                let c = pt(rng.range(2.0, w - 2.0), rng.range(2.0, h - 3.0));
                for _ in 0..3 {
                    let r = rng.range(1.2, 2.2);
                    glass.oval(
                        pt(c.x + rng.sym(2.5), c.y + rng.sym(0.8)),
                        r * 1.3,
                        r,
                        [0.97, 0.97, 1.0],
                        0.95,
                    );
                }
            }
        }
        View::CloudySky => {
            let base = hsv(
                rng.range(200.0, 230.0),
                rng.range(0.03, 0.15),
                rng.range(0.62, 0.82),
            );
            glass.shade(|_, _, k, _| base[k]);
            let n = 5 + rng.index(5);
            clouds(glass, rng, n, (0.72, 0.95), (3.0, 6.0));
        }
        View::StormySky => {
            let base = hsv(
                rng.range(205.0, 245.0),
                rng.range(0.12, 0.35),
                rng.range(0.18, 0.36),
            );
            glass.shade(|_, y, k, _| base[k] * (1.0 - 0.25 * y / h));
            let n = 4 + rng.index(5);
            clouds(glass, rng, n, (0.12, 0.32), (3.0, 6.5));
            if rng.chance(0.4) {
                let mut p = pt(rng.range(3.0, w - 3.0), 0.0);
                let mut bolt = vec![p];
                while p.y < h * 0.8 {
                    p = pt(p.x + rng.sym(2.5), p.y + rng.range(2.0, 4.0));
                    bolt.push(p);
                }
                glass.line(&bolt, 0.8, [1.0, 0.97, 0.7], 1.0);
            }
        }
        View::StarryNight => {
            let top = hsv(
                rng.range(220.0, 250.0),
                rng.range(0.5, 0.85),
                rng.range(0.04, 0.12),
            );
            let bottom = times(top, rng.range(1.2, 2.0));
            glass.shade(|_, y, k, _| top[k] + (bottom[k] - top[k]) * y / h);
            for _ in 0..(6 + rng.index(11)) {
                let c = pt(rng.range(0.5, w - 0.5), rng.range(0.5, h - 0.5));
                let star = mix([1.0, 1.0, 1.0], [1.0, 0.9, 0.6], rng.unit());
                let r = rng.range(0.35, 0.7);
                glass.oval(c, r, r, star, rng.range(0.7, 1.0));
            }
            if rng.chance(0.5) {
                let c = pt(rng.range(3.0, w - 3.0), rng.range(2.5, h * 0.5));
                let r = rng.range(1.8, 3.2);
                glass.oval(c, r, r, [0.98, 0.95, 0.75], 1.0);
                if rng.chance(0.6) {
                    glass.oval(pt(c.x + r * 0.6, c.y - r * 0.2), r, r, top, 1.0);
                }
            }
        }
        View::Sunset => {
            let top = hsv(
                rng.range(245.0, 290.0),
                rng.range(0.4, 0.7),
                rng.range(0.3, 0.55),
            );
            let middle = hsv(
                rng.range(5.0, 25.0),
                rng.range(0.6, 0.85),
                rng.range(0.8, 0.95),
            );
            let bottom = hsv(
                rng.range(35.0, 48.0),
                rng.range(0.75, 0.95),
                rng.range(0.9, 1.0),
            );
            let split = rng.range(0.35, 0.6);
            glass.shade(|_, y, k, _| {
                let t = y / h;
                if t < split {
                    top[k] + (middle[k] - top[k]) * t / split
                } else {
                    middle[k] + (bottom[k] - middle[k]) * (t - split) / (1.0 - split)
                }
            });
            let r = rng.range(2.5, 5.0);
            glass.oval(
                pt(rng.range(r, w - r), h - rng.range(0.0, r * 0.8)),
                r,
                r,
                [1.0, 0.85, 0.35],
                1.0,
            );
            if rng.chance(0.5) {
                let mut hills = vec![pt(-1.0, h + 1.0)];
                let mut x = -1.0;
                while x < w + 1.0 {
                    hills.push(pt(x, h - rng.range(0.5, 3.0)));
                    x += rng.range(2.0, 5.0);
                }
                hills.push(pt(w + 1.0, h + 1.0));
                glass.polygon(&hills, hsv(rng.range(260.0, 300.0), 0.4, 0.15), 1.0);
            }
        }
        View::Glare => {
            let tint = mix([1.0, 1.0, 1.0], [1.0, 0.96, 0.82], rng.unit());
            let level = rng.range(0.9, 1.0);
            glass.shade(|x, y, k, _| {
                let d = ((x / w - 0.5).powi(2) + (y / h - 0.5).powi(2)).sqrt();
                tint[k] * (level - 0.06 * d)
            });
        }
    }
    match window.weather {
        Weather::Clear => {}
        Weather::Rain => {
            // Streaks that stand out from the sky behind them: dark on a light cloudy sky,
            // light on a dark stormy one; and drops on the glass.
            // Slanted, so streaks do not pass for the window's bars.
            let slant = rng.range(0.3, 0.6) * if rng.chance(0.5) { 1.0 } else { -1.0 };
            let streak = if window.view == View::StormySky {
                hsv(
                    rng.range(200.0, 220.0),
                    rng.range(0.1, 0.25),
                    rng.range(0.7, 0.9),
                )
            } else {
                hsv(
                    rng.range(205.0, 220.0),
                    rng.range(0.2, 0.4),
                    rng.range(0.3, 0.45),
                )
            };
            for _ in 0..(14 + rng.index(10)) {
                let p = pt(rng.range(0.0, w), rng.range(-2.0, h));
                let len = rng.range(4.0, 8.0);
                glass.line(
                    &[p, pt(p.x + slant * len, p.y + len)],
                    rng.range(0.8, 1.1),
                    streak,
                    rng.range(0.7, 1.0),
                );
            }
            for _ in 0..(3 + rng.index(4)) {
                let c = pt(rng.range(0.0, w), rng.range(0.0, h));
                let r = rng.range(0.5, 0.8);
                glass.oval(c, r, r * 1.2, streak, 0.8);
            }
        }
        Weather::Snow => {
            // A snowy sky is a darker grey than a plain cloudy one: white flakes show on it.
            let dim = rng.range(0.5, 0.7);
            glass.shade(|_, _, _, v| v * dim);
            for _ in 0..(18 + rng.index(17)) {
                let c = pt(rng.range(0.0, w), rng.range(0.0, h));
                let r = rng.range(0.8, 1.3);
                glass.oval(c, r, r, [0.97, 0.98, 1.0], rng.range(0.8, 1.0));
            }
            if rng.chance(0.7) {
                let depth = rng.range(1.0, 2.2);
                glass.rect(-1.0, h - depth, w + 1.0, h + 1.0, [0.95, 0.96, 1.0], 1.0);
            }
        }
    }
}

/// `n` clouds of overlapping puffs; `value` and `size` are ranges of their brightness and
/// puff radius.
fn clouds(glass: &mut Picture, rng: &mut Rng, n: usize, value: (f32, f32), size: (f32, f32)) {
    let (w, h) = (glass.width() as f32, glass.height() as f32);
    for _ in 0..n {
        let c = pt(rng.range(-2.0, w + 2.0), rng.range(-1.0, h + 1.0));
        let v = rng.range(value.0, value.1);
        let colour = hsv(rng.range(200.0, 240.0), rng.range(0.0, 0.12), v);
        for _ in 0..(2 + rng.index(3)) {
            let r = rng.range(size.0, size.1);
            let at = pt(c.x + rng.sym(r), c.y + rng.sym(r * 0.4));
            glass.oval(at, r * 1.3, r * 0.8, times(colour, 0.85), 0.9);
            glass.oval(pt(at.x, at.y - r * 0.2), r * 1.1, r * 0.6, colour, 0.9);
        }
    }
}

/// Sunlight falling into a sunny room: bright warm patches on the floor and the wall.
fn sun_patches(pic: &mut Picture, room: &Room, rng: &mut Rng) {
    let sun = [1.0, 0.97, 0.84];
    let horizon = room.horizon;
    let lean = rng.sym(10.0);
    // Two or three patches, on the floor or the wall (a crowd can hide the floor).
    for _ in 0..(2 + rng.index(2)) {
        let on_floor = rng.chance(0.5);
        let (w, y0, y1) = if on_floor {
            (
                rng.range(12.0, 24.0),
                horizon + rng.range(1.0, 5.0),
                (horizon + rng.range(10.0, 20.0)).min(S),
            )
        } else {
            let top = rng.range(3.0, horizon * 0.5);
            (rng.range(7.0, 14.0), top, top + rng.range(8.0, 16.0))
        };
        let x = rng.range(-4.0, S - w + 4.0);
        let patch = [
            pt(x, y0),
            pt(x + w, y0),
            pt(x + w + lean, y1),
            pt(x + lean, y1),
        ];
        pic.polygon(&patch, sun, rng.range(0.45, 0.7));
        if rng.chance(0.5) {
            // The window's bars cast their shadow across the patch.
            let mx = x + w / 2.0;
            pic.line(&[pt(mx, y0), pt(mx + lean, y1)], 1.0, times(sun, 0.7), 0.5);
        }
    }
}

/// A light fixture (its glow is drawn after the room's lighting, so it shines in a dark room
/// too). Warm light gets an orange lamp more often than not, cold light a blue-white tube;
/// neutral light sometimes a white one, so the fixture alone does not tell the colour.
struct Glow {
    centre: Pt,
    radius: f32,
    colour: Rgb,
    strength: f32,
}

impl Glow {
    fn draw(&self, pic: &mut Picture) {
        let Glow {
            centre,
            radius,
            colour,
            strength,
        } = *self;
        pic.shade(|x, y, k, v| {
            let d = ((x - centre.x).powi(2) + (y - centre.y).powi(2)).sqrt() / radius;
            let a = strength * (1.0 - d).max(0.0).powi(2);
            v + (colour[k] - v) * a
        });
    }
}

fn lamp(pic: &mut Picture, light: LightColour, rng: &mut Rng) -> Option<Glow> {
    let colour = match light {
        LightColour::Warm if rng.chance(0.65) => [1.0, 0.72, 0.35],
        LightColour::Cold if rng.chance(0.65) => [0.78, 0.9, 1.0],
        LightColour::Neutral if rng.chance(0.3) => [1.0, 1.0, 0.97],
        _ => return None,
    };
    let x = rng.range(6.0, S - 6.0);
    let centre = if rng.chance(0.5) {
        // A tube or a pendant at the ceiling.
        let half = rng.range(3.0, 7.0);
        pic.rect(x - half, 0.0, x + half, 1.6, colour, 1.0);
        pt(x, 1.0)
    } else {
        // A wall lamp with a shade.
        let y = rng.range(8.0, 20.0);
        pic.polygon(
            &[
                pt(x - 1.5, y - 2.0),
                pt(x + 1.5, y - 2.0),
                pt(x + 2.5, y + 1.5),
                pt(x - 2.5, y + 1.5),
            ],
            mix(colour, [0.3, 0.3, 0.3], 0.2),
            1.0,
        );
        pt(x, y + 1.5)
    };
    Some(Glow {
        centre,
        radius: rng.range(9.0, 16.0),
        colour,
        strength: rng.range(0.35, 0.6),
    })
}

/// The plant and the flowers, each in a near corner of the picture (in front of everyone,
/// so a pair the labels name is always in view).
fn foreground(pic: &mut Picture, spec: &Spec, rng: &mut Rng) {
    let mut left = rng.chance(0.5);
    let mut corner = |rng: &mut Rng| {
        let x = if left {
            rng.range(6.0, 13.0)
        } else {
            rng.range(S - 13.0, S - 6.0)
        };
        left = !left;
        pt(x, S - rng.range(0.0, 3.0))
    };
    if spec.plant != Plant::Absent {
        let base = corner(rng);
        plant(pic, spec.plant, base, rng);
    }
    if spec.flowers {
        let base = corner(rng);
        flowers(pic, base, rng);
    }
}

fn plant(pic: &mut Picture, state: Plant, base: Pt, rng: &mut Rng) {
    // At most about 24 px tall: it stays below the main person's chin (see CHIN_LINE).
    let size = rng.range(1.2, 1.5);
    let (pot_w, pot_h) = (rng.range(5.0, 8.0) * size, rng.range(4.0, 6.0) * size);
    let pot = match rng.index(4) {
        0 => hsv(
            rng.range(12.0, 22.0),
            rng.range(0.55, 0.75),
            rng.range(0.5, 0.75),
        ),
        1 => hsv(0.0, 0.0, rng.range(0.3, 0.9)),
        2 => hsv(
            rng.range(190.0, 230.0),
            rng.range(0.3, 0.6),
            rng.range(0.4, 0.7),
        ),
        _ => hsv(
            rng.range(0.0, 360.0),
            rng.range(0.1, 0.4),
            rng.range(0.3, 0.8),
        ),
    };
    let top = base.y - pot_h;
    let stem = pt(base.x, top);
    match state {
        Plant::Green | Plant::Absent => {
            for _ in 0..(5 + rng.index(5)) {
                let angle = rng.range(-1.3, 1.3);
                let len = rng.range(5.0, 10.0) * size;
                let width = rng.range(1.4, 2.8) * size;
                let tip = pt(stem.x + len * angle.sin(), stem.y - len * angle.cos());
                let mid = pt((stem.x + tip.x) / 2.0, (stem.y + tip.y) / 2.0);
                let (nx, ny) = (angle.cos() * width / 2.0, angle.sin() * width / 2.0);
                let green = hsv(
                    rng.range(90.0, 140.0),
                    rng.range(0.5, 0.85),
                    rng.range(0.35, 0.72),
                );
                pic.polygon(
                    &[
                        stem,
                        pt(mid.x + nx, mid.y + ny),
                        tip,
                        pt(mid.x - nx, mid.y - ny),
                    ],
                    green,
                    1.0,
                );
            }
        }
        Plant::Wilted => {
            for _ in 0..(4 + rng.index(4)) {
                let out = if rng.chance(0.5) { 1.0 } else { -1.0 } * rng.range(2.0, 6.0) * size;
                let rise = rng.range(2.0, 6.0) * size;
                let end = pt(stem.x + out * 1.5, stem.y + rng.range(1.0, 5.0) * size);
                let brown = hsv(
                    rng.range(22.0, 50.0),
                    rng.range(0.4, 0.75),
                    rng.range(0.28, 0.55),
                );
                pic.line(
                    &quad(stem, pt(stem.x + out, stem.y - rise), end, 8),
                    rng.range(1.0, 1.8) * size,
                    brown,
                    1.0,
                );
            }
            for _ in 0..rng.index(3) {
                let fallen = pt(base.x + rng.sym(7.0), base.y + rng.range(-0.5, 1.5));
                let brown = hsv(rng.range(22.0, 45.0), 0.6, rng.range(0.3, 0.5));
                pic.oval(fallen, 1.3, 0.6, brown, 1.0);
            }
        }
    }
    pic.polygon(
        &[
            pt(base.x - pot_w / 2.0, top),
            pt(base.x + pot_w / 2.0, top),
            pt(base.x + pot_w * 0.35, base.y),
            pt(base.x - pot_w * 0.35, base.y),
        ],
        pot,
        1.0,
    );
    pic.rect(
        base.x - pot_w / 2.0 - 0.4,
        top - 0.6,
        base.x + pot_w / 2.0 + 0.4,
        top + 0.6,
        times(pot, 0.85),
        1.0,
    );
}

fn flowers(pic: &mut Picture, base: Pt, rng: &mut Rng) {
    let (vase_w, vase_h) = (rng.range(3.5, 6.0), rng.range(6.0, 9.0));
    let vase = match rng.index(3) {
        0 => hsv(
            rng.range(190.0, 230.0),
            rng.range(0.2, 0.6),
            rng.range(0.5, 0.85),
        ),
        1 => hsv(0.0, 0.0, rng.range(0.75, 0.95)),
        _ => hsv(
            rng.range(0.0, 360.0),
            rng.range(0.0, 0.3),
            rng.range(0.2, 0.6),
        ),
    };
    let top = pt(base.x, base.y - vase_h);
    for _ in 0..(4 + rng.index(5)) {
        let angle = rng.range(-0.8, 0.8);
        let len = rng.range(5.0, 10.0);
        let head = pt(top.x + len * angle.sin(), top.y - len * angle.cos());
        pic.line(
            &[top, head],
            0.8,
            hsv(rng.range(95.0, 130.0), 0.6, 0.4),
            1.0,
        );
        let pink = hsv(
            rng.range(318.0, 345.0),
            rng.range(0.35, 0.7),
            rng.range(0.85, 1.0),
        );
        let r = rng.range(1.6, 2.6);
        pic.oval(head, r, r, pink, 1.0);
        pic.oval(head, r * 0.35, r * 0.35, [1.0, 0.9, 0.4], 0.9);
    }
    pic.polygon(
        &ellipse(
            pt(base.x, base.y - vase_h * 0.45),
            vase_w / 2.0,
            vase_h * 0.55,
            14,
        ),
        vase,
        1.0,
    );
}

fn balloons(pic: &mut Picture, room: &Room, rng: &mut Rng) {
    const BRIGHT: [Rgb; 7] = [
        [0.92, 0.12, 0.12],
        [0.15, 0.35, 0.92],
        [1.0, 0.85, 0.1],
        [0.2, 0.75, 0.25],
        [1.0, 0.45, 0.7],
        [0.6, 0.25, 0.82],
        [1.0, 0.55, 0.1],
    ];
    let n = 2 + rng.index(4);
    let mut colours: Vec<usize> = (0..BRIGHT.len()).collect();
    rng.shuffle(&mut colours);
    let cluster = pt(rng.range(8.0, S - 8.0), rng.range(6.0, room.horizon * 0.55));
    let anchor = pt(cluster.x + rng.sym(4.0), cluster.y + rng.range(12.0, 20.0));
    for &c in colours.iter().take(n) {
        let colour = mix(BRIGHT[c], [rng.unit(), rng.unit(), rng.unit()], 0.1);
        let rx = rng.range(2.3, 3.8);
        let at = pt(cluster.x + rng.sym(7.0), cluster.y + rng.sym(4.0));
        pic.line(
            &quad(
                pt(at.x, at.y + rx * 1.2),
                pt(at.x + rng.sym(3.0), (at.y + anchor.y) / 2.0),
                anchor,
                6,
            ),
            0.45,
            [0.3, 0.3, 0.3],
            0.8,
        );
        pic.oval(at, rx, rx * 1.2, colour, 1.0);
        pic.oval(
            pt(at.x - rx * 0.35, at.y - rx * 0.45),
            rx * 0.25,
            rx * 0.3,
            [1.0, 1.0, 1.0],
            0.6,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// People

/// How a person's face is shown.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Face {
    /// Seen from behind: hair only.
    Back,
    /// Too small or turned: no features.
    Blank,
    /// Features showing an expression.
    Showing(Expression),
}

struct Person {
    x: f32,
    head_y: f32,
    /// Head radius in pixels.
    r: f32,
    skin: Rgb,
    hair: Rgb,
    shirt: Rgb,
    face: Face,
    arms_up: bool,
    /// Where the body stops (the picture's bottom for people near the camera).
    bottom: f32,
}

fn skin(rng: &mut Rng) -> Rgb {
    hsv(
        rng.range(18.0, 34.0),
        rng.range(0.25, 0.6),
        // Not darker: the features (dark ink) must show on the skin, in a dark room too.
        rng.range(0.45, 0.95),
    )
}

fn hair(rng: &mut Rng) -> Rgb {
    match rng.index(6) {
        0 => hsv(0.0, 0.0, rng.range(0.05, 0.15)),
        1 => hsv(25.0, 0.6, rng.range(0.15, 0.3)),
        2 => hsv(30.0, 0.55, rng.range(0.3, 0.5)),
        3 => hsv(45.0, 0.5, rng.range(0.7, 0.85)),
        4 => hsv(0.0, 0.0, rng.range(0.55, 0.8)),
        _ => hsv(15.0, 0.7, rng.range(0.35, 0.55)),
    }
}

/// A shirt colour no pair names.
fn other_shirt(rng: &mut Rng) -> Rgb {
    match rng.index(6) {
        0 => hsv(
            rng.range(0.0, 360.0),
            rng.range(0.0, 0.08),
            rng.range(0.35, 0.75),
        ),
        1 => hsv(
            rng.range(0.0, 360.0),
            rng.range(0.0, 0.1),
            rng.range(0.1, 0.25),
        ),
        2 => hsv(
            rng.range(30.0, 60.0),
            rng.range(0.0, 0.1),
            rng.range(0.85, 0.95),
        ),
        3 => hsv(
            rng.range(100.0, 150.0),
            rng.range(0.45, 0.75),
            rng.range(0.3, 0.6),
        ),
        4 => hsv(
            rng.range(270.0, 300.0),
            rng.range(0.4, 0.7),
            rng.range(0.35, 0.65),
        ),
        _ => hsv(
            rng.range(20.0, 35.0),
            rng.range(0.45, 0.7),
            rng.range(0.25, 0.45),
        ),
    }
}

fn shirt_colour(shirt: Shirt, rng: &mut Rng) -> Rgb {
    match shirt {
        Shirt::Red => hsv(
            rng.range(-6.0, 8.0),
            rng.range(0.7, 0.92),
            rng.range(0.6, 0.92),
        ),
        Shirt::Blue => hsv(
            rng.range(205.0, 228.0),
            rng.range(0.65, 0.9),
            rng.range(0.5, 0.88),
        ),
        Shirt::Yellow => hsv(
            rng.range(47.0, 56.0),
            rng.range(0.75, 0.95),
            rng.range(0.82, 0.98),
        ),
        Shirt::Other => other_shirt(rng),
    }
}

/// Draws everyone but the main person, and returns the main person (drawn later, in front of
/// the balloons).
fn people(pic: &mut Picture, spec: &Spec, room: &Room, rng: &mut Rng) -> Option<Person> {
    let horizon = room.horizon;
    let stranger = |rng: &mut Rng, x: f32, head_y: f32, r: f32, face: Face| Person {
        x,
        head_y,
        r,
        skin: skin(rng),
        hair: hair(rng),
        shirt: other_shirt(rng),
        face,
        arms_up: false,
        bottom: head_y + r * 5.0,
    };
    // The main person's head size and place, for the settings where they stand alone in front.
    // Close to the kiosk's camera: the face is a third of the picture or more.
    let mut main_at = (
        rng.range(11.0, 15.0),
        rng.range(0.3, 0.7) * S,
        rng.range(S * 0.28, S * 0.45),
    );
    match spec.people {
        People::EmptyHall | People::LonelyPerson => {}
        People::SmallGroup => {
            let members = 2 + rng.index(3);
            let r = rng.range(8.0, 10.5);
            let spacing = r * rng.range(2.2, 2.8);
            let centre = S / 2.0 + rng.sym(6.0);
            let head_y = rng.range(S * 0.35, S * 0.5);
            let main_index = rng.index(members);
            let mut others = Vec::new();
            for i in 0..members {
                let x = centre + (i as f32 - (members - 1) as f32 / 2.0) * spacing + rng.sym(2.0);
                if i == main_index {
                    main_at = (r * rng.range(1.0, 1.15), x, head_y + rng.range(0.0, 3.0));
                } else {
                    let their_r = r * rng.range(0.8, 0.97);
                    let y = head_y - (r - their_r) * 1.5 - rng.range(0.0, 2.0);
                    let face = if rng.chance(0.85) {
                        Face::Showing(Expression::Neutral)
                    } else {
                        Face::Blank
                    };
                    let mut p = stranger(rng, x, y, their_r, face);
                    p.bottom = S + 2.0;
                    others.push(p);
                }
            }
            for p in &others {
                person(pic, p, rng);
            }
        }
        People::BusyCrowd | People::HappyCrowd => {
            let happy = spec.people == People::HappyCrowd;
            let n = if happy {
                9 + rng.index(10)
            } else {
                // Busy: packed, many small heads at several depths.
                18 + rng.index(13)
            };
            let mut crowd: Vec<(f32, f32)> = (0..n)
                .map(|_| (rng.unit(), rng.range(-2.0, S + 2.0)))
                .collect();
            crowd.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (depth, x) in crowd {
                let r = if happy {
                    3.0 + 2.0 * depth
                } else {
                    2.2 + 1.8 * depth
                };
                let band = if happy { 14.0 } else { 19.0 };
                let head_y = horizon - 9.0 + depth * band + rng.sym(1.5);
                // A happy crowd cheers with raised arms; half of the faces big enough to show
                // one smile (the smiling_face pair is the main person's alone).
                let face = if happy {
                    if r >= 3.2 && rng.chance(0.5) {
                        Face::Showing(Expression::Smiling)
                    } else {
                        Face::Blank
                    }
                } else if rng.chance(0.3) {
                    Face::Back
                } else if r >= 3.5 && rng.chance(0.6) {
                    Face::Showing(Expression::Neutral)
                } else {
                    Face::Blank
                };
                let mut p = stranger(rng, x, head_y, r, face);
                p.arms_up = happy && rng.chance(0.85);
                if happy && rng.chance(0.3) {
                    // Jumping.
                    p.head_y -= rng.range(1.0, 3.0);
                }
                person(pic, &p, rng);
            }
            main_at = in_front_of_a_crowd(rng);
        }
        People::QuietQueue => {
            let n = 4 + rng.index(4);
            let r0 = rng.range(4.5, 6.5);
            let r1 = r0 * rng.range(0.75, 1.25);
            let y0 = horizon + rng.range(-5.0, 5.0);
            let y1 = y0 + (r1 - r0) * 2.5;
            let spacing = (r0 + r1) / 2.0 * rng.range(2.1, 2.6);
            let span = spacing * (n - 1) as f32;
            let start = rng.range(4.0, (S - span - 4.0).max(4.5));
            let mut line = Vec::new();
            for i in 0..n {
                let t = i as f32 / (n - 1) as f32;
                let r = r0 + (r1 - r0) * t;
                let face = if rng.chance(0.85) {
                    Face::Back
                } else {
                    Face::Blank
                };
                line.push(stranger(
                    rng,
                    start + spacing * i as f32,
                    y0 + (y1 - y0) * t,
                    r,
                    face,
                ));
            }
            line.sort_by(|a, b| a.r.total_cmp(&b.r));
            for p in &line {
                person(pic, p, rng);
            }
            {
                // Queue barriers: posts and a belt at waist height along the line.
                let belt = match rng.index(3) {
                    0 => [0.08, 0.08, 0.1],
                    1 => hsv(0.0, 0.0, rng.range(0.3, 0.6)),
                    _ => hsv(rng.range(340.0, 360.0), 0.6, rng.range(0.25, 0.4)),
                };
                let waist = |t: f32| y0 + (y1 - y0) * t + (r0 + (r1 - r0) * t) * 3.0;
                let (a, b) = (start - spacing * 0.5, start + span + spacing * 0.5);
                let (ya, yb) = (waist(-0.1) + 2.0, waist(1.1) + 2.0);
                pic.line(&[pt(a, ya), pt(b, yb)], 1.1, belt, 1.0);
                for (x, y) in [(a, ya), (b, yb)] {
                    pic.rect(x - 0.5, y - 0.5, x + 0.5, y + 5.0, [0.75, 0.75, 0.78], 1.0);
                }
            }
            main_at = in_front_of_a_crowd(rng);
        }
    }
    spec.main.map(|main| {
        let (r, x, head_y) = main_at;
        Person {
            x: x.clamp(r * 1.2, S - r * 1.2),
            head_y: head_y.min(CHIN_LINE - r * 1.05),
            r,
            skin: skin(rng),
            hair: hair(rng),
            shirt: shirt_colour(main.shirt, rng),
            face: Face::Showing(main.expression),
            arms_up: false,
            bottom: S + 2.0,
        }
    })
}

/// The lowest the main person's chin goes: the plant and the flowers in the near corners stay
/// below it, so nothing hides the face the face pairs describe.
const CHIN_LINE: f32 = S * 0.63;

/// Head size and place `(r, x, head_y)` of a main person in front of a crowd or a queue:
/// lower than one standing alone and to one side, so the people behind still show.
fn in_front_of_a_crowd(rng: &mut Rng) -> (f32, f32, f32) {
    let r = rng.range(10.0, 13.0);
    let x = if rng.chance(0.5) {
        rng.range(0.16, 0.3)
    } else {
        rng.range(0.7, 0.84)
    };
    (r, x * S, CHIN_LINE - r * 1.05 - rng.range(0.0, 2.0))
}

const INK: Rgb = [0.06, 0.04, 0.04];
/// Lips and the inside of an open mouth.
const MOUTH: Rgb = [0.25, 0.03, 0.04];
const TEAR: Rgb = [0.45, 0.75, 1.0];

fn person(pic: &mut Picture, p: &Person, rng: &mut Rng) {
    let r = p.r;
    let neck_y = p.head_y + r * 0.95;
    let half_shoulders = r * rng.range(1.5, 1.9);
    let shoulder_y = neck_y + r * 0.35;
    if p.arms_up {
        for side in [-1.0, 1.0] {
            let shoulder = pt(p.x + side * half_shoulders * 0.8, shoulder_y + r * 0.5);
            let hand = pt(
                p.x + side * (half_shoulders + r * rng.range(0.2, 1.0)),
                p.head_y - r * rng.range(0.8, 1.8),
            );
            pic.line(&[shoulder, hand], r * 0.65, p.shirt, 1.0);
            pic.oval(hand, r * 0.3, r * 0.3, p.skin, 1.0);
        }
    }
    let long_hair = p.face != Face::Back && rng.chance(0.3);
    if long_hair {
        pic.rect(
            p.x - r * 1.05,
            p.head_y - r * 0.4,
            p.x + r * 1.05,
            p.head_y + r * rng.range(0.8, 1.4),
            p.hair,
            1.0,
        );
    }
    // Body: rounded shoulders (the top half of an ellipse) down to the bottom.
    let chest = pt(p.x, shoulder_y + r * 0.9);
    let mut body = arc(chest, half_shoulders, r * 0.95, PI, PI, 16);
    body.push(pt(p.x + half_shoulders, p.bottom));
    body.push(pt(p.x - half_shoulders, p.bottom));
    pic.polygon(&body, p.shirt, 1.0);
    if rng.chance(0.4) && r > 5.0 {
        // A collar.
        pic.polygon(
            &[
                pt(p.x - r * 0.4, shoulder_y - r * 0.05),
                pt(p.x + r * 0.4, shoulder_y - r * 0.05),
                pt(p.x, shoulder_y + r * 0.6),
            ],
            p.skin,
            1.0,
        );
    }
    pic.rect(
        p.x - r * 0.35,
        p.head_y + r * 0.5,
        p.x + r * 0.35,
        shoulder_y + r * 0.1,
        times(p.skin, 0.9),
        1.0,
    );
    let head = pt(p.x, p.head_y);
    if p.face == Face::Back {
        pic.oval(head, r * 0.95, r * 1.05, p.hair, 1.0);
        return;
    }
    pic.oval(head, r * 0.92, r * 1.05, p.skin, 1.0);
    // Hair on top: the head's outline over the crown, closed by a chord at a random depth
    // (the hairline), always above the eyes.
    let hairline = rng.range(0.15, 0.55);
    let cap = arc(
        head,
        r * 0.97,
        r * 1.1,
        PI + hairline,
        PI - 2.0 * hairline,
        12,
    );
    pic.polygon(&cap, p.hair, 1.0);
    if let Face::Showing(expression) = p.face {
        face(pic, head, r, expression, rng);
    }
}

/// The features of `expression` on a head at `c` of radius `r`.
fn face(pic: &mut Picture, c: Pt, r: f32, expression: Expression, rng: &mut Rng) {
    let eye_dx = r * rng.range(0.33, 0.42);
    let eye_y = c.y + r * rng.range(0.0, 0.12);
    let mouth_y = c.y + r * rng.range(0.48, 0.58);
    let mouth_half = r * rng.range(0.25, 0.36);
    let stroke = (r * 0.14).max(0.7);
    let dot = (r * 0.12).max(0.6);
    let eyes = [pt(c.x - eye_dx, eye_y), pt(c.x + eye_dx, eye_y)];
    let dots = |pic: &mut Picture| {
        for e in eyes {
            pic.oval(e, dot, dot * 1.2, INK, 1.0);
        }
    };
    // Brows: `inner` and `outer` heights above the eye (in head radii).
    let brows = |pic: &mut Picture, inner: f32, outer: f32| {
        for side in [-1.0, 1.0] {
            let e = eyes[usize::from(side > 0.0)];
            pic.line(
                &[
                    pt(e.x - side * r * 0.08, e.y - r * inner),
                    pt(e.x + side * r * 0.22, e.y - r * outer),
                ],
                stroke * 0.9,
                INK,
                0.9,
            );
        }
    };
    let arc = |pic: &mut Picture, bend: f32, width: f32| {
        pic.line(
            &quad(
                pt(c.x - mouth_half, mouth_y - bend * 0.3),
                pt(c.x, mouth_y + bend),
                pt(c.x + mouth_half, mouth_y - bend * 0.3),
                8,
            ),
            width,
            MOUTH,
            1.0,
        );
    };
    if rng.chance(0.25) {
        for e in eyes {
            pic.oval(
                pt(e.x, e.y + r * 0.3),
                r * 0.14,
                r * 0.08,
                [0.95, 0.5, 0.5],
                0.4,
            );
        }
    }
    match expression {
        Expression::Neutral => {
            dots(pic);
            pic.line(
                &[
                    pt(c.x - mouth_half * 0.8, mouth_y),
                    pt(c.x + mouth_half * 0.8, mouth_y),
                ],
                stroke,
                MOUTH,
                1.0,
            );
        }
        Expression::Smiling => {
            dots(pic);
            arc(pic, r * rng.range(0.24, 0.34), stroke);
        }
        Expression::Laughing => {
            // Eyes squeezed shut into arches, mouth wide open.
            for e in eyes {
                pic.line(
                    &quad(
                        pt(e.x - r * 0.15, e.y + r * 0.05),
                        pt(e.x, e.y - r * 0.22),
                        pt(e.x + r * 0.15, e.y + r * 0.05),
                        6,
                    ),
                    stroke,
                    INK,
                    1.0,
                );
            }
            let half = mouth_half * 1.15;
            let depth = r * rng.range(0.32, 0.45);
            let mut open = vec![pt(c.x - half, mouth_y - r * 0.08)];
            open.extend(quad(
                pt(c.x - half, mouth_y - r * 0.08),
                pt(c.x, mouth_y + depth * 2.0),
                pt(c.x + half, mouth_y - r * 0.08),
                10,
            ));
            pic.polygon(&open, MOUTH, 1.0);
            if rng.chance(0.6) {
                pic.rect(
                    c.x - half * 0.7,
                    mouth_y - r * 0.08,
                    c.x + half * 0.7,
                    mouth_y + r * 0.04,
                    [1.0, 1.0, 1.0],
                    0.9,
                );
            }
        }
        Expression::Frowning => {
            dots(pic);
            // Knitted brows, low at the middle.
            brows(pic, 0.1, 0.36);
            arc(pic, -r * rng.range(0.2, 0.3), stroke);
        }
        Expression::Crying => {
            if rng.chance(0.5) {
                dots(pic);
            } else {
                for e in eyes {
                    pic.line(
                        &quad(
                            pt(e.x - r * 0.14, e.y - r * 0.02),
                            pt(e.x, e.y + r * 0.12),
                            pt(e.x + r * 0.14, e.y - r * 0.02),
                            6,
                        ),
                        stroke,
                        INK,
                        1.0,
                    );
                }
            }
            // Sad brows, raised at the middle.
            brows(pic, 0.34, 0.18);
            arc(pic, -r * rng.range(0.14, 0.24), stroke);
            for e in eyes {
                let len = r * rng.range(0.4, 0.7);
                let x = e.x + rng.sym(r * 0.06);
                pic.line(
                    &[pt(x, e.y + r * 0.15), pt(x, e.y + r * 0.15 + len)],
                    (r * 0.13).max(0.7),
                    TEAR,
                    0.95,
                );
                pic.oval(pt(x, e.y + r * 0.15 + len), r * 0.11, r * 0.14, TEAR, 1.0);
            }
        }
        Expression::Surprised => {
            for e in eyes {
                pic.oval(e, r * 0.18, r * 0.21, [1.0, 1.0, 1.0], 1.0);
                pic.oval(e, dot * 0.9, dot * 0.9, INK, 1.0);
            }
            // High, round brows.
            for e in eyes {
                pic.line(
                    &quad(
                        pt(e.x - r * 0.18, e.y - r * 0.3),
                        pt(e.x, e.y - r * 0.5),
                        pt(e.x + r * 0.18, e.y - r * 0.3),
                        6,
                    ),
                    stroke * 0.9,
                    INK,
                    0.9,
                );
            }
            pic.oval(
                pt(c.x, mouth_y + r * 0.05),
                r * rng.range(0.13, 0.18),
                r * rng.range(0.18, 0.26),
                MOUTH,
                1.0,
            );
        }
        Expression::Sleepy => {
            // Closed eyes as drooping lines, a small mouth, sometimes a yawn and a "z".
            for e in eyes {
                pic.line(
                    &[
                        pt(e.x - r * 0.2, e.y + r * 0.02),
                        pt(e.x + r * 0.2, e.y + r * 0.08),
                    ],
                    stroke,
                    INK,
                    1.0,
                );
            }
            if rng.chance(0.5) {
                pic.oval(pt(c.x, mouth_y), r * 0.1, r * 0.12, MOUTH, 1.0);
            } else {
                pic.line(
                    &[
                        pt(c.x - mouth_half * 0.5, mouth_y),
                        pt(c.x + mouth_half * 0.5, mouth_y),
                    ],
                    stroke,
                    MOUTH,
                    1.0,
                );
            }
            if rng.chance(0.7) {
                let side = if rng.chance(0.5) { 1.0 } else { -1.0 };
                let z = pt(c.x + side * r * 1.3, c.y - r * 1.1);
                let s = r * rng.range(0.3, 0.45);
                pic.line(
                    &[
                        pt(z.x - s, z.y - s),
                        pt(z.x + s, z.y - s),
                        pt(z.x - s, z.y + s),
                        pt(z.x + s, z.y + s),
                    ],
                    (r * 0.09).max(0.6),
                    [0.2, 0.25, 0.6],
                    1.0,
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Light and camera

/// The room's brightness, a gloomy corner and the light's colour. What shows of the window's
/// glass (and a glaring window's halo) keeps its own light: a dark room can look out on a
/// sunny day.
fn lighting(pic: &mut Picture, spec: &Spec, rng: &mut Rng) {
    let gain = match spec.room {
        RoomLight::Sunny => rng.range(1.05, 1.2),
        RoomLight::Plain => rng.range(0.75, 0.95),
        // Dark, but a face in it still shows its expression.
        RoomLight::Dark => rng.range(0.3, 0.45),
    };
    let a = rng.range(0.16, 0.3);
    let cast = match spec.light {
        LightColour::Neutral => [
            1.0 + rng.sym(0.04),
            1.0 + rng.sym(0.04),
            1.0 + rng.sym(0.04),
        ],
        LightColour::Warm => [1.0 + a, 1.0 + a * 0.3, 1.0 - a],
        LightColour::Cold => [1.0 - a * 0.8, 1.0 + a * 0.1, 1.0 + a],
    };
    let gloom = spec.gloomy_corner.then(|| {
        let corner = match rng.index(4) {
            0 => pt(0.0, 0.0),
            1 => pt(S, 0.0),
            2 => pt(0.0, S * 0.75),
            _ => pt(S, S * 0.75),
        };
        (corner, rng.range(0.5, 0.75) * S, rng.range(0.65, 0.85))
    });
    let glass = pic.glass.clone();
    pic.shade(|x, y, k, v| {
        let mut factor = gain * cast[k];
        if let Some((corner, radius, depth)) = gloom {
            let d = ((x - corner.x).powi(2) + (y - corner.y).powi(2)).sqrt() / radius;
            factor *= 1.0 - depth * (1.0 - d).max(0.0).powf(0.8);
        }
        let on_glass = glass.get(x as u32, y as u32);
        v * (factor + (1.0 - factor) * on_glass)
    });
}

/// Exposure, gamma, white balance, lens vignetting, blur and sensor noise.
fn camera(pic: &mut Picture, rng: &mut Rng) {
    let exposure = rng.range(0.88, 1.12);
    let gamma = rng.range(0.9, 1.1);
    let balance = [
        1.0 + rng.sym(0.03),
        1.0 + rng.sym(0.03),
        1.0 + rng.sym(0.03),
    ];
    let vignette = if rng.chance(0.3) {
        rng.range(0.05, 0.15)
    } else {
        0.0
    };
    pic.shade(|x, y, k, v| {
        let d2 = ((x / S - 0.5).powi(2) + (y / S - 0.5).powi(2)) * 2.0;
        (v.max(0.0) * exposure * balance[k] * (1.0 - vignette * d2))
            .min(1.0)
            .powf(gamma)
    });
    if rng.chance(0.4) {
        let amount = rng.range(0.3, 0.9);
        for channel in &mut pic.channels {
            channel.soften(amount);
        }
    }
    let sigma = rng.range(0.004, 0.025);
    for channel in &mut pic.channels {
        channel.add(|_, _| rng.normal() * sigma);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use sentio_models::{ANPS, AnpCategory};

    fn names(labels: &[usize]) -> Vec<&'static str> {
        labels.iter().map(|&i| ANP32.labels[i]).collect()
    }

    /// The consistency rules of the module documentation, on a label set.
    fn check_consistent(labels: &[usize]) {
        let names = names(labels);
        let has = |n: &str| names.contains(&n);
        // At most one pair per noun.
        for (i, &a) in labels.iter().enumerate() {
            for &b in &labels[i + 1..] {
                assert_ne!(ANPS[a].noun, ANPS[b].noun, "{names:?}");
            }
        }
        // Exactly one crowd pair.
        let crowd = labels
            .iter()
            .filter(|&&i| ANPS[i].category == AnpCategory::Crowd)
            .count();
        assert_eq!(crowd, 1, "{names:?}");
        let personal = labels
            .iter()
            .any(|&i| ANPS[i].category == AnpCategory::Face || ANPS[i].noun == "shirt");
        if has("empty_hall") {
            assert!(!personal, "{names:?}");
        }
        assert!(!(has("dark_room") && has("gloomy_corner")), "{names:?}");
        assert!(!(has("sunny_room") && has("starry_night")), "{names:?}");
        if has("rainy_window") {
            assert!(has("cloudy_sky") || has("stormy_sky"), "{names:?}");
        }
        if has("snowy_window") {
            assert!(has("cloudy_sky"), "{names:?}");
        }
        let views = [
            "blue_sky",
            "cloudy_sky",
            "stormy_sky",
            "starry_night",
            "golden_sunset",
            "bright_window",
        ];
        assert!(views.iter().filter(|v| has(v)).count() <= 1, "{names:?}");
    }

    #[test]
    fn random_and_forced_scenes_keep_the_rules() {
        for seed in 0..400u64 {
            let mut rng = Rng::new(seed);
            let spec = Spec::random(&mut rng);
            check_consistent(&spec.labels());
            for (focus, label) in ANP32.labels.iter().enumerate() {
                let mut forced = spec;
                forced.force(label, &mut Rng::new(seed ^ 0xF00D));
                let labels = forced.labels();
                assert!(
                    labels.contains(&focus),
                    "{label} not in {:?}",
                    names(&labels)
                );
                check_consistent(&labels);
            }
        }
    }

    #[test]
    fn the_main_person_is_there_exactly_when_the_people_call_for_one() {
        for seed in 0..300u64 {
            let spec = Spec::random(&mut Rng::new(seed));
            match spec.people {
                People::EmptyHall => assert!(spec.main.is_none()),
                People::LonelyPerson | People::SmallGroup => assert!(spec.main.is_some()),
                _ => {}
            }
        }
    }

    #[test]
    fn drawing_is_deterministic_and_the_focus_shows() {
        let a = draw(7, Some(3));
        assert_eq!(a, draw(7, Some(3)));
        assert_ne!(a.image, draw(8, Some(3)).image);
        assert!(a.labels.contains(&3));
        assert_eq!(a.image.dimensions(), (SIZE, SIZE));
        assert!(a.labels.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_dark_room_is_darker_than_a_sunny_one() {
        let mean = |labels: &str| {
            let mut total = 0.0;
            let focus = ANP32.index_of(labels);
            for seed in 0..20 {
                let scene = draw(seed, focus);
                total += scene
                    .image
                    .as_raw()
                    .iter()
                    .map(|&b| f64::from(b))
                    .sum::<f64>()
                    / scene.image.as_raw().len() as f64;
            }
            total / 20.0
        };
        let (dark, sunny) = (mean("dark_room"), mean("sunny_room"));
        assert!(dark + 40.0 < sunny, "dark {dark}, sunny {sunny}");
    }

    #[test]
    fn hsv_gives_the_primaries() {
        let close = |a: Rgb, b: Rgb| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
        assert!(close(hsv(0.0, 1.0, 1.0), [1.0, 0.0, 0.0]));
        assert!(close(hsv(120.0, 1.0, 1.0), [0.0, 1.0, 0.0]));
        assert!(close(hsv(240.0, 1.0, 0.5), [0.0, 0.0, 0.5]));
        assert!(close(hsv(-120.0, 0.0, 0.3), [0.3, 0.3, 0.3]));
    }
}
