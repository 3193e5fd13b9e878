//! Hand-drawn sketches, for the device's sketch mode and the generators that train its model.
//!
//! - [`raster`]: the anti-aliased rasterizer (thick strokes of varying width, filled polygons).
//!   `sentio-data`'s emoji generator draws with it and the device draws a touch panel's strokes
//!   with it ([`rasterize_strokes`]), so a finger's emoji and a generated one are the same kind of
//!   pixels.
//! - [`normalize_drawing`]: **the** normalization of a drawing into the emoji CNN's 64x64 input:
//!   lighting flattened, ink softly binarized, cropped to the ink and rescaled. The generator ends
//!   every image with it and the device runs it on every card and every touch drawing, so what the
//!   model saw in training is what it sees on the device.
//! - [`find_card`]: the drawn card in a camera frame: the largest bright quadrilateral, its
//!   corners, and the card warped flat ([`warp_quad`], a homography). No card, two cards and a
//!   blank card are results, not errors.
//!
//! No I/O and no model: the device runs the CNN (through `sentio-vision`).

mod card;
mod error;
mod homography;
mod normalize;
pub mod raster;
mod strokes;

pub use card::{CardSearch, FoundCard, Quad, find_card};
pub use error::SketchError;
pub use homography::{Homography, warp_quad};
pub use normalize::{INPUT_SIZE, Normalized, ink_map, normalize_drawing};
pub use strokes::{STROKE_CANVAS, rasterize_strokes};
